"""/caidat → «Đặt lịch vắng»: a focal point records an absence (from–to, dd/mm/yyyy).

While it lasts the agency's reminders and nudges go to its deputies (or, with none, to its
leaders) — the rule is `core.deputies.recipients` — and come back after it. Clearing is a
button of /caidat. The data goes through the `AbsenceStore` port (storage/deputies.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol

from core.commands import ChatContext
from core.conversation import Expect, Flow, Invalid, Step, say
from core.deputies import absence_problem
from core.flows.choices import after_confirm, confirm_choices
from core.model import UserRole

FLOW = "absence"


class AbsenceStore(Protocol):
    def set_absence(
        self, contact_id: int, start: date | None, end: date | None, now: datetime
    ) -> None: ...

    def stand_ins(self, agency_id: int) -> tuple[list[str], list[str]]:
        """(deputies' names, leaders' names) of the agency: who receives reminders meanwhile."""
        ...


def _today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def build_absence_flow(store_of: Callable[[Any], AbsenceStore]) -> Flow:
    def check_start(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        if date.fromisoformat(value) < _today(ctx):
            raise Invalid(say("absence/invalid.j2", reason="start_past"))

    def check_end(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        problem = absence_problem(
            date.fromisoformat(data["start"]), date.fromisoformat(value), _today(ctx)
        )
        if problem is not None:
            raise Invalid(say("absence/invalid.j2", reason=problem))

    def summary(ctx: ChatContext, data: dict[str, Any]) -> Any:
        deputies: list[str] = []
        leaders: list[str] = []
        if ctx.actor is not None and ctx.actor.agency_id is not None:
            deputies, leaders = store_of(ctx).stand_ins(ctx.actor.agency_id)
        return say("absence/confirm.j2", d=data, deputies=deputies, leaders=leaders)

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        actor = ctx.actor
        if actor is None or actor.role is not UserRole.FOCAL:
            ctx.audit("absence_set", "", "refused", reason="not_focal")
            return say("absence/refused.j2")
        start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
        store_of(ctx).set_absence(actor.contact_id, start, end, ctx.now)
        ctx.audit(
            "absence_set",
            f"contact:{actor.contact_id}",
            start=start.isoformat(),
            end=end.isoformat(),
        )
        return say("absence/saved.j2", d=data)

    return Flow(
        name=FLOW,
        steps=[
            Step(
                "start", lambda ctx, d: say("absence/ask_start.j2"), Expect.DATE, check=check_start
            ),
            Step(
                "end", lambda ctx, d: say("absence/ask_end.j2", d=d), Expect.DATE, check=check_end
            ),
            Step(
                "confirm",
                summary,
                Expect.CHOICE,
                choices=confirm_choices,
                next=after_confirm,
                columns=2,
            ),
        ],
        finish=finish,
    )
