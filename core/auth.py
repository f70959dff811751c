"""Who may do what: the role rules, in one place, enforced before any handler acts.

Handlers ask these functions instead of comparing roles themselves, so a rule changes here
once. A refusal carries a reason code that the dispatcher writes to the audit log and that a
template turns into a Vietnamese explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.commands import Actor
from core.model import UserRole


@dataclass(frozen=True)
class Refusal:
    reason: str  # "not_focal", "other_agency", "not_assigned", "role", "unlinked"
    target: str = ""


def may_report(actor: Actor | None, agency_id: int | None, assigned: bool) -> Refusal | None:
    """Only a linked focal point reports, only for its own agency, only on assigned tasks."""
    target = f"agency:{agency_id}"
    if actor is None:
        return Refusal("unlinked", target)
    if actor.role is not UserRole.FOCAL:
        return Refusal("not_focal", target)
    if actor.agency_id is None or actor.agency_id != agency_id:
        return Refusal("other_agency", target)
    if not assigned:
        return Refusal("not_assigned", target)
    return None


# Roles each role may hand out through an invite created in chat. The CLI (server shell) may
# create any invite; in chat, a coordinator invites the agencies and leaders it works with.
_INVITES: dict[UserRole, frozenset[UserRole]] = {
    UserRole.ADMIN: frozenset(UserRole),
    UserRole.COORDINATOR: frozenset({UserRole.FOCAL, UserRole.LEADER}),
}


def may_invite(actor: Actor | None, role: UserRole) -> Refusal | None:
    if actor is None:
        return Refusal("unlinked", f"role:{role}")
    if role not in _INVITES.get(actor.role, frozenset()):
        return Refusal("role", f"role:{role}")
    return None


def invitable_roles(actor: Actor) -> list[UserRole]:
    return [r for r in UserRole if r in _INVITES.get(actor.role, frozenset())]
