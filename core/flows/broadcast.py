"""/nhacnho: a coordinator's broadcast nudge — audience → text → preview with the count → send.

Audiences: every focal point, agencies with overdue items, agencies that have not reported
for a round, the lead agencies of an area, a kind of agency, or agencies typed by name. An
audience that reaches nobody is refused at once (before the text is written). The preview
states how many people and agencies receive it and, outside office hours, when it will go
out. Sending writes the broadcast, one outbox row per recipient and the coordinator's
progress message in the update's transaction (the `BroadcastStore` port, storage/scheduling/
broadcast.py `SqlBroadcastStore`); the delivery worker does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from core.broadcast import AudienceKind, BroadcastAudience, Recipient
from core.calendar import WorkCalendar
from core.commands import ChatContext
from core.conversation import Choice, Expect, Flow, Invalid, Step, Text, say
from core.flows.choices import after_confirm, agency_codes, confirm_choices, kind_choices
from core.flows.rounds import RoundInfo, today
from core.outgoing import Outgoing

FLOW = "sched_broadcast"


@dataclass(frozen=True)
class AreaInfo:
    code: str  # "III"
    title: str


@dataclass(frozen=True)
class BroadcastDraft:
    audience: BroadcastAudience
    message: Outgoing
    progress: Outgoing  # the coordinator's progress message, edited as sending proceeds
    targets: Sequence[Recipient]
    sender_id: int  # contact id of the coordinator
    actor: str  # "telegram:123", for the audit row
    now: datetime


class AudienceRefused(Exception):
    """The audience names nothing that exists; `reason` (Vietnamese) is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BroadcastStore(Protocol):
    def recipients(self, audience: BroadcastAudience, today: date) -> list[Recipient]:
        """Active focal points of the audience; AudienceRefused when it names nothing."""
        ...

    def calendar(self, today: date) -> WorkCalendar: ...

    def open_rounds(self) -> list[RoundInfo]: ...

    def areas(self) -> list[AreaInfo]:
        """The areas of the latest plan, in order."""
        ...

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]: ...

    def send(self, draft: BroadcastDraft) -> int:
        """Queue the broadcast; the number of messages queued. AudienceRefused if none."""
        ...


StoreOf = Callable[[ChatContext], BroadcastStore]


def audience_of(data: dict[str, Any]) -> BroadcastAudience:
    kind = AudienceKind(data["audience"])
    if kind is AudienceKind.PICKED:
        return BroadcastAudience(kind, codes=tuple(data["picked_codes"]))
    value = {
        AudienceKind.NOT_REPORTED: data.get("round"),
        AudienceKind.AREA: data.get("area"),
        AudienceKind.KIND: data.get("kind"),
    }.get(kind)
    return BroadcastAudience(kind, value)


def _sender(ctx: ChatContext) -> str:
    assert ctx.actor is not None  # /nhacnho is for coordinators only
    return ctx.actor.display_name or ctx.actor.agency_name


def build_broadcast_flow(store_of: StoreOf) -> Flow:
    """The broadcast flow, wired to a store factory (storage, or a fake in unit tests)."""

    def targets(ctx: ChatContext, data: dict[str, Any]) -> list[Recipient]:
        try:
            return store_of(ctx).recipients(audience_of(data), today(ctx))
        except AudienceRefused as exc:
            raise Invalid(say("broadcast/no_audience.j2", reason=exc.reason)) from exc

    def reaches_someone(ctx: ChatContext, data: dict[str, Any]) -> None:
        if not targets(ctx, data):
            raise Invalid(say("broadcast/nobody.j2"))

    def check_audience(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        if value in (AudienceKind.ALL_FOCAL.value, AudienceKind.OVERDUE.value):
            reaches_someone(ctx, dict(data, audience=value))

    def check_value(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        reaches_someone(ctx, {**data, data["audience"]: value})

    def check_picked(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        codes = agency_codes(store_of(ctx).find_agencies, value)
        reaches_someone(ctx, dict(data, picked_codes=codes))
        data["picked_codes"] = codes

    def message(ctx: ChatContext, data: dict[str, Any]) -> str:
        return ctx.render("broadcast/message.j2", sender=_sender(ctx), text=data["text"])

    def preview(ctx: ChatContext, data: dict[str, Any]) -> Text:
        found = targets(ctx, data)
        calendar = store_of(ctx).calendar(today(ctx))
        start = ctx.config.send_window.next_open(ctx.now, calendar)
        picked = data["audience"] == AudienceKind.PICKED.value
        return say(
            "broadcast/preview.j2",
            audience=ctx.render(
                "broadcast/audience_label.j2",
                kind=data["audience"],
                value=None if picked else data.get(data["audience"]),
                codes=data.get("picked_codes") or [],
            ),
            count=len(found),
            agencies=len({t.agency_id for t in found}),
            later=start if start > ctx.now else None,
            message=message(ctx, data),
        )

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Outgoing:
        assert ctx.actor is not None
        store = store_of(ctx)
        try:
            found = store.recipients(audience_of(data), today(ctx))
            total = store.send(
                BroadcastDraft(
                    audience=audience_of(data),
                    message=Outgoing(message(ctx, data)),
                    progress=Outgoing(ctx.render("broadcast/progress_start.j2", total=len(found))),
                    targets=found,
                    sender_id=ctx.actor.contact_id,
                    actor=ctx.actor.key,
                    now=ctx.now,
                )
            )
        except AudienceRefused as exc:
            ctx.audit("broadcast", outcome="refused", reason=exc.reason)
            return Outgoing(ctx.render("broadcast/no_audience.j2", reason=exc.reason))
        return Outgoing(ctx.render("broadcast/queued.j2", count=total))

    def audience_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice(k.value, say("broadcast/audience_label.j2", kind=k.value, value=None, codes=[]))
            for k in AudienceKind
        ]

    def round_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice(r.code, say("rounds/choice_round.j2", round=r), (r.code,))
            for r in store_of(ctx).open_rounds()
        ]

    def area_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice(a.code, say("broadcast/area_label.j2", area=a), (a.code,))
            for a in store_of(ctx).areas()
        ]

    def asks(template: str) -> Callable[[ChatContext, dict[str, Any]], Text]:
        return lambda ctx, data: say(template)

    return Flow(
        name=FLOW,
        steps=[
            Step(
                "audience",
                asks("broadcast/ask_audience.j2"),
                Expect.CHOICE,
                choices=audience_choices,
                check=check_audience,
            ),
            Step(
                "round",
                asks("broadcast/ask_round.j2"),
                Expect.CHOICE,
                choices=round_choices,
                check=check_value,
                when=lambda d: d.get("audience") == AudienceKind.NOT_REPORTED.value,
            ),
            Step(
                "area",
                asks("broadcast/ask_area.j2"),
                Expect.CHOICE,
                choices=area_choices,
                check=check_value,
                when=lambda d: d.get("audience") == AudienceKind.AREA.value,
            ),
            Step(
                "kind",
                asks("rounds/ask_kind.j2"),
                Expect.CHOICE,
                choices=kind_choices,
                check=check_value,
                when=lambda d: d.get("audience") == AudienceKind.KIND.value,
            ),
            Step(
                "picked",
                asks("rounds/ask_agencies.j2"),
                check=check_picked,
                when=lambda d: d.get("audience") == AudienceKind.PICKED.value,
            ),
            Step("text", asks("broadcast/ask_text.j2")),
            Step("confirm", preview, Expect.CHOICE, choices=confirm_choices, next=after_confirm),
        ],
        finish=finish,
    )
