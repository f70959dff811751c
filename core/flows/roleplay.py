"""Trying parbot without an account: pick a role and an agency, and be linked as such.

Used by the console channel (`/dongvai`), where there is no Telegram account to invite. The
link goes through an invite created and redeemed behind the scenes, so the console exercises
the same onboarding path as Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core.commands import ChatContext
from core.conversation import FINISH, Choice, Expect, Flow, Invalid, Step, say
from core.model import UserRole
from core.names import NameMatch

FLOW = "roleplay"
ROLES = (UserRole.FOCAL, UserRole.COORDINATOR, UserRole.LEADER)
MAX_MATCHES = 24


class Directory(Protocol):
    def find_agencies(self, typed: str) -> NameMatch:
        """The agency the typed text names (`code`), or the candidates it might mean, best
        first (`core.names.match_agency`: an ambiguity is listed, never guessed)."""
        ...

    def link(self, ctx: ChatContext, agency_code: str, role: UserRole) -> None: ...


def build_roleplay_flow(directory_of: Callable[[Any], Directory]) -> Flow:
    def role_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(r.value, say("chat/role_label.j2", role=r.value)) for r in ROLES]

    def search(ctx: ChatContext, data: dict[str, Any], answer: Any) -> str:
        found = directory_of(ctx).find_agencies(answer.text)
        matches = found.candidates
        data["exact"] = found.code
        if not matches:
            raise Invalid(say("chat/roleplay_no_agency.j2", typed=answer.text[:80]))
        if len(matches) > MAX_MATCHES:
            raise Invalid(say("chat/roleplay_too_many.j2", count=len(matches)))
        data["candidates"] = [list(m) for m in matches]
        return str(answer.text)

    def pick_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(code, f"{name} ({code})", (code,)) for code, name in data["candidates"]]

    def after_search(data: dict[str, Any]) -> str:
        if data.get("exact"):
            data["agency"] = data["exact"]
            return FINISH
        return "agency"

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        role = UserRole(data["role"])
        directory_of(ctx).link(ctx, data["agency"], role)
        name = next((n for c, n in data["candidates"] if c == data["agency"]), data["agency"])
        return say("chat/roleplay_done.j2", role=role.value, agency=name, code=data["agency"])

    return Flow(
        name=FLOW,
        steps=[
            Step(
                "role",
                lambda ctx, d: say("chat/roleplay_ask_role.j2"),
                Expect.CHOICE,
                choices=role_choices,
            ),
            Step(
                "query",
                lambda ctx, d: say("chat/roleplay_ask_agency.j2", role=d["role"]),
                parse=search,
                next=after_search,
            ),
            Step(
                "agency",
                lambda ctx, d: say("chat/roleplay_pick_agency.j2", count=len(d["candidates"])),
                Expect.CHOICE,
                choices=pick_choices,
                page_size=8,
            ),
        ],
        finish=finish,
    )
