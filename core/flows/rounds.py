"""/kybaocao: create a reporting round, or change an open round's deadline, or close it.

New round: title → deadline (not in the past) → audience (agencies typed by name, a kind of
agency, task refs, or every lead task) → for agencies or a kind, whether each sends task
statuses or a document of its own (`core.round_documents`) → what to send (optional) →
recurrence → confirm.
Existing round: pick it → change the deadline or close → confirm. Pure flow definition: rounds
are read and written through the `RoundStore` port (storage/scheduling/rounds.py
`SqlRoundStore`), so the same steps run on every channel and against a fake in unit tests.
The store refuses what the database would not hold (unknown codes, a duplicate) with
`RoundRefused`, whose reason is shown to the coordinator and audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from core.commands import ChatContext
from core.conversation import Choice, Expect, Flow, Invalid, Step, Text, say
from core.flows.choices import after_confirm, agency_codes, confirm_choices, kind_choices
from core.outgoing import Outgoing
from core.round_documents import RoundAsks
from core.rounds import Audience

FLOW = "sched_round"
AUDIENCES = ("agencies", "kinds", "tasks", "all")
RECURRENCES = ("none", "monthly", "quarterly")
_REFS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class RoundInfo:
    """A reporting round as the chat shows it."""

    code: str
    title: str
    deadline: date
    status: str = "open"


@dataclass(frozen=True)
class RoundDraft:
    title: str
    deadline: date
    audience: Audience
    ask: str
    opens_on: date
    recurrence: str | None  # None, "monthly", "quarterly"
    created_by: int  # contact id
    asks: str = RoundAsks.STATUS.value  # or "document": each agency sends a document


class RoundRefused(Exception):
    """The store cannot carry the request out; `reason` (Vietnamese) is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RoundStore(Protocol):
    def open_rounds(self) -> list[RoundInfo]: ...

    def round(self, code: str) -> RoundInfo | None: ...

    def unknown_refs(self, refs: Sequence[str]) -> list[str]:
        """The refs that name no task of the latest plan."""
        ...

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]:
        """(code, name) of agencies matching a typed name or code."""
        ...

    def create(self, draft: RoundDraft) -> RoundInfo: ...

    def set_deadline(self, code: str, deadline: date) -> RoundInfo: ...

    def close(self, code: str) -> RoundInfo: ...


StoreOf = Callable[[ChatContext], RoundStore]  # ctx -> the store on this update's session


def today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def is_new(data: dict[str, Any]) -> bool:
    return data.get("pick") == "new"


def audience_of(data: dict[str, Any]) -> Audience:
    how = data.get("audience")
    if how == "agencies":
        return Audience(agencies=tuple(data["agency_codes"]))
    if how == "kinds":
        return Audience(kinds=(data["kind"],))
    if how == "tasks":
        return Audience(tasks=tuple(data["task_refs"]))
    return Audience(tasks=("*",))


def not_past(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
    if value < today(ctx).isoformat():
        raise Invalid(say("rounds/date_past.j2"))


def build_round_flow(store_of: StoreOf) -> Flow:
    """The round flow, wired to a store factory (storage, or a fake in unit tests)."""

    def pick_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        choices = [Choice("new", say("rounds/choice_new.j2"))]
        for row in store_of(ctx).open_rounds():
            choices.append(Choice(row.code, say("rounds/choice_round.j2", round=row), (row.code,)))
        return choices

    def check_tasks(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        refs = [r.strip() for r in _REFS.split(value) if r.strip()]
        missing = store_of(ctx).unknown_refs(refs) if refs else []
        if not refs or missing:
            raise Invalid(say("rounds/tasks_unknown.j2", refs=missing))
        data["task_refs"] = refs

    def check_agencies(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        data["agency_codes"] = agency_codes(store_of(ctx).find_agencies, value)

    def summary(ctx: ChatContext, data: dict[str, Any]) -> Text:
        if is_new(data):
            return say(
                "rounds/confirm_new.j2",
                title=data["title"],
                deadline=date.fromisoformat(data["deadline"]),
                audience=audience_of(data).to_dict(),
                ask=data.get("ask") or "",
                recurrence=data.get("recurrence") or "none",
                asks=data.get("asks") or RoundAsks.STATUS.value,
            )
        new_deadline = data.get("new_deadline")
        return say(
            "rounds/confirm_edit.j2",
            round=store_of(ctx).round(data["pick"]),
            action=data.get("action"),
            deadline=date.fromisoformat(new_deadline) if new_deadline else None,
        )

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Outgoing:
        assert ctx.actor is not None  # /kybaocao is for staff only
        store = store_of(ctx)
        try:
            if is_new(data):
                recurrence = data.get("recurrence")
                row = store.create(
                    RoundDraft(
                        title=data["title"],
                        deadline=date.fromisoformat(data["deadline"]),
                        audience=audience_of(data),
                        ask=data.get("ask") or "",
                        opens_on=today(ctx),
                        recurrence=None if recurrence in (None, "none") else recurrence,
                        created_by=ctx.actor.contact_id,
                        asks=data.get("asks") or RoundAsks.STATUS.value,
                    )
                )
                ctx.audit("round_create", target=row.code, deadline=row.deadline.isoformat())
                return Outgoing(ctx.render("rounds/created.j2", round=row))
            if data.get("action") == "close":
                row = store.close(data["pick"])
                ctx.audit("round_close", target=row.code)
                return Outgoing(ctx.render("rounds/closed.j2", round=row))
            row = store.set_deadline(data["pick"], date.fromisoformat(data["new_deadline"]))
            ctx.audit("round_deadline", target=row.code, deadline=row.deadline.isoformat())
            return Outgoing(ctx.render("rounds/deadline_set.j2", round=row))
        except RoundRefused as exc:
            ctx.audit("round", target=str(data.get("pick")), outcome="refused", reason=exc.reason)
            return Outgoing(ctx.render("rounds/error.j2", reason=exc.reason))

    def audience_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(v, say("rounds/audience_label.j2", how=v)) for v in AUDIENCES]

    def asks_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(a.value, say("rounds/asks_label.j2", asks=a.value)) for a in RoundAsks]

    def recurrence_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(v, say("rounds/recurrence_label.j2", recurrence=v)) for v in RECURRENCES]

    def action_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice("deadline", say("rounds/action_label.j2", action="deadline")),
            Choice("close", say("rounds/action_label.j2", action="close")),
        ]

    def asks(template: str) -> Callable[[ChatContext, dict[str, Any]], Text]:
        return lambda ctx, data: say(template)

    return Flow(
        name=FLOW,
        steps=[
            Step("pick", asks("rounds/ask_pick.j2"), Expect.CHOICE, choices=pick_choices),
            Step("title", asks("rounds/ask_title.j2"), when=is_new),
            Step(
                "deadline", asks("rounds/ask_deadline.j2"), Expect.DATE, check=not_past, when=is_new
            ),
            Step(
                "audience",
                asks("rounds/ask_audience.j2"),
                Expect.CHOICE,
                choices=audience_choices,
                when=is_new,
            ),
            Step(
                "agencies",
                asks("rounds/ask_agencies.j2"),
                check=check_agencies,
                when=lambda d: is_new(d) and d.get("audience") == "agencies",
            ),
            Step(
                "kind",
                asks("rounds/ask_kind.j2"),
                Expect.CHOICE,
                choices=kind_choices,
                when=lambda d: is_new(d) and d.get("audience") == "kinds",
            ),
            Step(
                "tasks",
                asks("rounds/ask_tasks.j2"),
                check=check_tasks,
                when=lambda d: is_new(d) and d.get("audience") == "tasks",
            ),
            Step(
                "asks",
                asks("rounds/ask_asks.j2"),
                Expect.CHOICE,
                choices=asks_choices,
                when=lambda d: is_new(d) and d.get("audience") in ("agencies", "kinds"),
            ),
            Step("ask", asks("rounds/ask_ask.j2"), skip=say("chat/button_skip.j2"), when=is_new),
            Step(
                "recurrence",
                asks("rounds/ask_recurrence.j2"),
                Expect.CHOICE,
                choices=recurrence_choices,
                when=is_new,
            ),
            Step(
                "action",
                asks("rounds/ask_action.j2"),
                Expect.CHOICE,
                choices=action_choices,
                when=lambda d: not is_new(d),
            ),
            Step(
                "new_deadline",
                asks("rounds/ask_deadline.j2"),
                Expect.DATE,
                check=not_past,
                when=lambda d: not is_new(d) and d.get("action") == "deadline",
            ),
            Step(
                "confirm", summary, Expect.CHOICE, choices=confirm_choices, next=after_confirm
            ),
        ],
        finish=finish,
    )
