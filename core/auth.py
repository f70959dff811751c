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


@dataclass(frozen=True)
class Seat:
    """Where a report reader sits, as storage reads it from the agency table: their agency,
    the agencies under it (`Agency.parent_id`: a district's communes) and whether it is a
    provincial body that directs the plan (see `storage.reports.seats`)."""

    agency_code: str | None
    below: tuple[str, ...] = ()
    directs_plan: bool = False


# Roles that read the whole plan wherever they sit: they run it (coordinators at Sở Nội vụ,
# administrators on the server).
_WHOLE_PLAN_ROLES = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})


def report_reach(role: UserRole | str | None, seat: Seat) -> tuple[str, ...] | None | Refusal:
    """Which agencies' part of the compiled report (and their evidence) a reader may see.

    None: the whole plan. A tuple: only those agencies. A `Refusal`: nothing.
    - coordinators and admins: the whole plan;
    - a leader of a provincial body that directs the plan (UBND tỉnh, Sở Nội vụ): the whole
      plan; any other leader: their own agency and the agencies under it (a district leader
      sees the district's communes, a commune leader only the commune);
    - a focal point: their own agency only (what they report for);
    - anyone else, or a leader or focal point linked to no agency: refused.
    One rule for chat, files and the web dashboard: they all call this.
    """
    if role in _WHOLE_PLAN_ROLES:
        return None
    if role not in (UserRole.LEADER, UserRole.FOCAL):
        return Refusal("role")
    if not seat.agency_code:
        return Refusal("no_agency")
    if role == UserRole.LEADER:
        if seat.directs_plan:
            return None
        return (seat.agency_code, *seat.below)
    return (seat.agency_code,)


def may_report(actor: Actor | None, agency_id: int | None, assigned: bool) -> Refusal | None:
    """Only a linked focal point reports, only for its own agency, only on assigned tasks."""
    refusal = may_invite_deputy(actor, agency_id)
    if refusal is None and not assigned:
        return Refusal("not_assigned", f"agency:{agency_id}")
    return refusal


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


# ---------------------------------------------------------------------------- issue 13
# Extension requests (gia hạn), their decisions, and deputies invited by a focal point.
_DECIDERS = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})


def may_request_extension(
    actor: Actor | None, agency_id: int | None, assigned: bool
) -> Refusal | None:
    """A focal point asks for more time only for its own agency, only on an assigned task:
    the same rule as reporting (`may_report`)."""
    return may_report(actor, agency_id, assigned)


def may_decide_extension(actor: Actor | None) -> Refusal | None:
    """Only coordinators (and admins) approve or refuse an extension — never a focal point,
    whatever button data or typed number it sends."""
    if actor is None:
        return Refusal("unlinked", "extension")
    if actor.role not in _DECIDERS:
        return Refusal("role", "extension")
    return None


def may_invite_deputy(actor: Actor | None, agency_id: int | None) -> Refusal | None:
    """A focal point invites a deputy (another focal point) for its own agency only."""
    target = f"agency:{agency_id}"
    if actor is None:
        return Refusal("unlinked", target)
    if actor.role is not UserRole.FOCAL:
        return Refusal("not_focal", target)
    if actor.agency_id is None or actor.agency_id != agency_id:
        return Refusal("other_agency", target)
    return None
