"""The scheduling feature in chat: /kybaocao, /nhacnho, /caidat, reminder buttons.

`register(registry)` plugs the commands, buttons and flows into the chat (bot/app.py
FEATURES); the reminder and digest jobs and the outbox delivery worker are built by the
composition root (bot/app.py) from `scheduling_from`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlmodel import col, select

from bot.settings import Settings
from core.broadcast import AudienceKind, BroadcastAudience
from core.calendar import SendWindow, WorkCalendar
from core.commands import STAFF, PressedButton, Registry
from core.conversation import CANCEL, FINISH, Choice, Expect, Flow, Invalid, Step, say
from core.model import AgencyKind, UserRole
from core.outgoing import Outgoing
from core.reminders import ReminderPolicy
from core.rounds import Audience
from messages.render import render
from scheduler.context import Scheduling
from scheduler.reminders import REPORT_ACTION, reminder_tasks, snooze
from storage.chat.state import find_agencies
from storage.scheduling.broadcast import BroadcastError, create_broadcast, recipients
from storage.scheduling.calendar import default_years, load_calendar
from storage.scheduling.rounds import (
    RoundError,
    create_round,
    get_round,
    latest_plan,
    open_rounds,
    set_deadline,
    set_status,
)
from storage.tables.shared import Area, Contact, Task

ROUND_FLOW, BROADCAST_FLOW = "sched_round", "sched_broadcast"
COORDINATORS = frozenset({UserRole.COORDINATOR})
_SPLIT = re.compile(r"[,;\n]+")


# ---------------------------------------------------------------------------- helpers
def window_of(settings: Settings) -> SendWindow:
    return SendWindow(settings.send_window_start, settings.send_window_end, settings.timezone)


def scheduling_from(settings: Settings, engine: Any, clock: Any) -> Scheduling:
    """The composition of the scheduling feature from settings (used by `run`)."""
    policy = ReminderPolicy.from_settings(
        settings.reminder_offsets, settings.overdue_days_before_escalation, settings.reminder_time
    )
    return Scheduling(
        engine, clock, policy=policy, window=window_of(settings), digest_at=settings.digest_time
    )


def _today(ctx: Any) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def _calendar(ctx: Any) -> WorkCalendar:
    cached = ctx.cache.get("sched_calendar")
    if cached is None:
        cached = ctx.cache["sched_calendar"] = load_calendar(
            ctx.session, default_years(_today(ctx))
        )
    return cached


def _agency_codes(ctx: Any, typed: str) -> list[str]:
    """Agency codes from typed names or codes ("STP, Sở Tài chính"); Invalid when unclear."""
    codes: list[str] = []
    unclear: list[str] = []
    for piece in (p.strip() for p in _SPLIT.split(typed)):
        if not piece:
            continue
        found = find_agencies(ctx.session, piece, limit=2)
        if len(found) != 1:
            unclear.append(piece)
        elif found[0][0] not in codes:
            codes.append(found[0][0])
    if unclear or not codes:
        raise Invalid(say("rounds/agencies_unclear.j2", pieces=unclear))
    return codes


def _kind_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    return [Choice(k.value, say("rounds/kind_label.j2", kind=k.value)) for k in AgencyKind]


# ---------------------------------------------------------------------------- /caidat
def settings_command(ctx: Any) -> Outgoing:
    """Toggle the daily digest for oneself."""
    contact = ctx.session.get(Contact, ctx.actor.contact_id)
    contact.digest_muted = not contact.digest_muted
    ctx.session.add(contact)
    ctx.audit("digest_mute", target=f"contact:{contact.id}", muted=contact.digest_muted)
    return Outgoing(render("digest/muted.j2", muted=contact.digest_muted))


# ---------------------------------------------------------------------------- reminder buttons
def snooze_button(ctx: Any, pressed: PressedButton) -> Outgoing:
    key = str(pressed.args.get("key", ""))
    outcome = snooze(ctx.session, key, ctx.actor.contact_id, _today(ctx), _calendar(ctx), ctx.tz)
    ctx.audit(
        "reminder_snooze",
        target=key[:300],
        outcome="ok" if outcome.until else "refused",
        until=outcome.until.isoformat() if outcome.until else None,
    )
    return Outgoing(render(outcome.template, until=outcome.until))


def tasks_button(ctx: Any, pressed: PressedButton) -> Outgoing:
    """A multi-task reminder's "Báo cáo ngay": its open tasks, each a report button."""
    key = str(pressed.args.get("key", ""))
    agency, round_, tasks = reminder_tasks(
        ctx.session, key, ctx.actor.contact_id, _today(ctx), ctx.tz
    )
    if agency is None:
        ctx.audit("reminder_tasks", target=key[:300], outcome="refused")
        return Outgoing(render("reminders/snooze_gone.j2"))
    buttons = [
        [
            ctx.button(
                render("reminders/task_button.j2", ref=t.ref, title=t.title),
                REPORT_ACTION,
                {
                    "task_id": t.id,
                    "agency_id": agency.id,
                    "round_id": round_.id if round_ else None,
                },
            )
        ]
        for t in tasks[:40]
    ]
    text = render(
        "reminders/pick_task.j2",
        agency=agency.name,
        title=round_.title if round_ else None,
        tasks=tasks,
    )
    return Outgoing(text, buttons=buttons)


# ---------------------------------------------------------------------------- /kybaocao
def _round_pick(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    choices = [Choice("new", say("rounds/choice_new.j2"))]
    for row in open_rounds(ctx.session):
        choices.append(Choice(row.code, say("rounds/choice_round.j2", round=row), (row.code,)))
    return choices


def _not_past(ctx: Any, data: dict[str, Any], value: str) -> None:
    if value < _today(ctx).isoformat():
        raise Invalid(say("rounds/date_past.j2"))


def _round_tasks(ctx: Any, data: dict[str, Any], value: str) -> None:
    refs = [r.strip() for r in re.split(r"[,;\s]+", value) if r.strip()]
    plan = latest_plan(ctx.session)
    known = set(
        ctx.session.exec(
            select(Task.ref).where(
                Task.plan_id == (plan.id if plan else -1), col(Task.ref).in_(refs)
            )
        ).all()
    )
    missing = [r for r in refs if r not in known]
    if not refs or missing:
        raise Invalid(say("rounds/tasks_unknown.j2", refs=missing))
    data["task_refs"] = refs


def _round_agencies(ctx: Any, data: dict[str, Any], value: str) -> None:
    data["agency_codes"] = _agency_codes(ctx, value)


def _new(data: dict[str, Any]) -> bool:
    return data.get("pick") == "new"


def _audience_from(data: dict[str, Any]) -> Audience:
    how = data.get("audience")
    if how == "agencies":
        return Audience(agencies=tuple(data["agency_codes"]))
    if how == "kinds":
        return Audience(kinds=(data["kind"],))
    if how == "tasks":
        return Audience(tasks=tuple(data["task_refs"]))
    return Audience(tasks=("*",))


def _round_summary(ctx: Any, data: dict[str, Any]) -> Any:
    if _new(data):
        return say(
            "rounds/confirm_new.j2",
            title=data["title"],
            deadline=date.fromisoformat(data["deadline"]),
            audience=_audience_from(data).to_dict(),
            ask=data.get("ask") or "",
            recurrence=data.get("recurrence") or "none",
        )
    row = get_round(ctx.session, data["pick"])
    return say(
        "rounds/confirm_edit.j2",
        round=row,
        action=data.get("action"),
        deadline=date.fromisoformat(data["new_deadline"]) if data.get("new_deadline") else None,
    )


def _confirm_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    return [Choice("ok", say("chat/button_send.j2")), Choice("no", say("chat/button_cancel.j2"))]


def finish_round(ctx: Any, data: dict[str, Any]) -> Outgoing:
    try:
        if _new(data):
            row = create_round(
                ctx.session,
                title=data["title"],
                deadline=date.fromisoformat(data["deadline"]),
                audience=_audience_from(data),
                ask=data.get("ask") or "",
                opens_on=_today(ctx),
                recurrence=None if data.get("recurrence") in (None, "none") else data["recurrence"],
                created_by=ctx.actor.contact_id,
            )
            ctx.audit("round_create", target=row.code, deadline=row.deadline.isoformat())
            return Outgoing(render("rounds/created.j2", round=row))
        if data.get("action") == "close":
            row = set_status(ctx.session, data["pick"], "closed")
            ctx.audit("round_close", target=row.code)
            return Outgoing(render("rounds/closed.j2", round=row))
        row = set_deadline(ctx.session, data["pick"], date.fromisoformat(data["new_deadline"]))
        ctx.audit("round_deadline", target=row.code, deadline=row.deadline.isoformat())
        return Outgoing(render("rounds/deadline_set.j2", round=row))
    except RoundError as exc:
        ctx.audit("round", target=str(data.get("pick")), outcome="refused", reason=str(exc))
        return Outgoing(render("rounds/error.j2", reason=str(exc)))


ROUND = Flow(
    name=ROUND_FLOW,
    steps=[
        Step("pick", lambda c, d: say("rounds/ask_pick.j2"), Expect.CHOICE, choices=_round_pick),
        Step("title", lambda c, d: say("rounds/ask_title.j2"), when=_new),
        Step(
            "deadline",
            lambda c, d: say("rounds/ask_deadline.j2"),
            Expect.DATE,
            check=_not_past,
            when=_new,
        ),
        Step(
            "audience",
            lambda c, d: say("rounds/ask_audience.j2"),
            Expect.CHOICE,
            choices=lambda c, d: [
                Choice(v, say("rounds/audience_label.j2", how=v))
                for v in ("agencies", "kinds", "tasks", "all")
            ],
            when=_new,
        ),
        Step(
            "agencies",
            lambda c, d: say("rounds/ask_agencies.j2"),
            check=_round_agencies,
            when=lambda d: _new(d) and d.get("audience") == "agencies",
        ),
        Step(
            "kind",
            lambda c, d: say("rounds/ask_kind.j2"),
            Expect.CHOICE,
            choices=_kind_choices,
            when=lambda d: _new(d) and d.get("audience") == "kinds",
        ),
        Step(
            "tasks",
            lambda c, d: say("rounds/ask_tasks.j2"),
            check=_round_tasks,
            when=lambda d: _new(d) and d.get("audience") == "tasks",
        ),
        Step(
            "ask",
            lambda c, d: say("rounds/ask_ask.j2"),
            skip=say("chat/button_skip.j2"),
            when=_new,
        ),
        Step(
            "recurrence",
            lambda c, d: say("rounds/ask_recurrence.j2"),
            Expect.CHOICE,
            choices=lambda c, d: [
                Choice(v, say("rounds/recurrence_label.j2", recurrence=v))
                for v in ("none", "monthly", "quarterly")
            ],
            when=_new,
        ),
        Step(
            "action",
            lambda c, d: say("rounds/ask_action.j2"),
            Expect.CHOICE,
            choices=lambda c, d: [
                Choice("deadline", say("rounds/action_label.j2", action="deadline")),
                Choice("close", say("rounds/action_label.j2", action="close")),
            ],
            when=lambda d: not _new(d),
        ),
        Step(
            "new_deadline",
            lambda c, d: say("rounds/ask_deadline.j2"),
            Expect.DATE,
            check=_not_past,
            when=lambda d: not _new(d) and d.get("action") == "deadline",
        ),
        Step(
            "confirm",
            _round_summary,
            Expect.CHOICE,
            choices=_confirm_choices,
            next=lambda d: FINISH if d["confirm"] == "ok" else CANCEL,
        ),
    ],
    finish=finish_round,
)


# ---------------------------------------------------------------------------- /nhacnho
def _audience(data: dict[str, Any]) -> BroadcastAudience:
    kind = AudienceKind(data["audience"])
    if kind is AudienceKind.PICKED:
        return BroadcastAudience(kind, codes=tuple(data["picked_codes"]))
    value = {
        AudienceKind.NOT_REPORTED: data.get("round"),
        AudienceKind.AREA: data.get("area"),
        AudienceKind.KIND: data.get("kind"),
    }.get(kind)
    return BroadcastAudience(kind, value)


def _targets(ctx: Any, data: dict[str, Any]) -> list[Any]:
    try:
        return recipients(ctx.session, _audience(data), _today(ctx), ctx.tz, _calendar(ctx))
    except BroadcastError as exc:
        raise Invalid(say("broadcast/no_audience.j2", reason=str(exc))) from exc


def _audience_check(ctx: Any, data: dict[str, Any], value: str) -> None:
    if value in ("all", "overdue"):
        probe = dict(data, audience=value)
        if not _targets(ctx, probe):
            raise Invalid(say("broadcast/nobody.j2"))


def _value_check(ctx: Any, data: dict[str, Any], value: str) -> None:
    probe = dict(data)
    probe[data["audience"]] = value
    if not _targets(ctx, probe):
        raise Invalid(say("broadcast/nobody.j2"))


def _picked_check(ctx: Any, data: dict[str, Any], value: str) -> None:
    codes = _agency_codes(ctx, value)
    probe = dict(data, picked_codes=codes)
    if not _targets(ctx, probe):
        raise Invalid(say("broadcast/nobody.j2"))
    data["picked_codes"] = codes


def _preview(ctx: Any, data: dict[str, Any]) -> Any:
    targets = _targets(ctx, data)
    sender = ctx.actor.display_name or ctx.actor.agency_name
    settings = Settings()
    window = window_of(settings)
    start = window.next_open(ctx.now, _calendar(ctx))
    return say(
        "broadcast/preview.j2",
        audience=ctx.render(
            "broadcast/audience_label.j2",
            kind=data["audience"],
            value=data.get(data["audience"]) if data["audience"] != "picked" else None,
            codes=data.get("picked_codes") or [],
        ),
        count=len(targets),
        agencies=len({t.agency_id for t in targets}),
        later=start if start > ctx.now else None,
        message=render("broadcast/message.j2", sender=sender, text=data["text"]),
    )


def finish_broadcast(ctx: Any, data: dict[str, Any]) -> Outgoing:
    targets = _targets(ctx, data)
    sender = ctx.session.get(Contact, ctx.actor.contact_id)
    text = render(
        "broadcast/message.j2",
        sender=ctx.actor.display_name or ctx.actor.agency_name,
        text=data["text"],
    )
    try:
        row = create_broadcast(
            ctx.session,
            audience=_audience(data),
            message=Outgoing(text),
            progress=Outgoing(render("broadcast/progress_start.j2", total=len(targets))),
            targets=targets,
            sender=sender,
            actor=ctx.actor.key,
            now=ctx.now,
        )
    except BroadcastError as exc:
        ctx.audit("broadcast", outcome="refused", reason=str(exc))
        return Outgoing(render("broadcast/no_audience.j2", reason=str(exc)))
    return Outgoing(render("broadcast/queued.j2", count=row.total))


def _round_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    return [
        Choice(r.code, say("rounds/choice_round.j2", round=r), (r.code,))
        for r in open_rounds(ctx.session)
    ]


def _area_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    plan = latest_plan(ctx.session)
    if plan is None:
        return []
    areas = ctx.session.exec(select(Area).where(Area.plan_id == plan.id).order_by(Area.position))
    return [Choice(a.code, say("broadcast/area_label.j2", area=a), (a.code,)) for a in areas]


BROADCAST = Flow(
    name=BROADCAST_FLOW,
    steps=[
        Step(
            "audience",
            lambda c, d: say("broadcast/ask_audience.j2"),
            Expect.CHOICE,
            choices=lambda c, d: [
                Choice(
                    k.value, say("broadcast/audience_label.j2", kind=k.value, value=None, codes=[])
                )
                for k in AudienceKind
            ],
            check=_audience_check,
        ),
        Step(
            "round",
            lambda c, d: say("broadcast/ask_round.j2"),
            Expect.CHOICE,
            choices=_round_choices,
            check=_value_check,
            when=lambda d: d.get("audience") == "round",
        ),
        Step(
            "area",
            lambda c, d: say("broadcast/ask_area.j2"),
            Expect.CHOICE,
            choices=_area_choices,
            check=_value_check,
            when=lambda d: d.get("audience") == "area",
        ),
        Step(
            "kind",
            lambda c, d: say("rounds/ask_kind.j2"),
            Expect.CHOICE,
            choices=_kind_choices,
            check=_value_check,
            when=lambda d: d.get("audience") == "kind",
        ),
        Step(
            "picked",
            lambda c, d: say("rounds/ask_agencies.j2"),
            check=_picked_check,
            when=lambda d: d.get("audience") == "picked",
        ),
        Step("text", lambda c, d: say("broadcast/ask_text.j2")),
        Step(
            "confirm",
            _preview,
            Expect.CHOICE,
            choices=_confirm_choices,
            next=lambda d: FINISH if d["confirm"] == "ok" else CANCEL,
        ),
    ],
    finish=finish_broadcast,
)


# ---------------------------------------------------------------------------- plug-in
def register(registry: Registry) -> None:
    everyone = {UserRole.FOCAL, UserRole.COORDINATOR, UserRole.LEADER, UserRole.ADMIN}
    registry.add_flow(ROUND)
    registry.add_flow(BROADCAST)
    registry.add_command(
        "kybaocao",
        render("rounds/command_description.j2", command="kybaocao"),
        lambda ctx: ctx.start_flow(ROUND_FLOW),
        roles=STAFF,
    )
    registry.add_command(
        "nhacnho",
        render("rounds/command_description.j2", command="nhacnho"),
        lambda ctx: ctx.start_flow(BROADCAST_FLOW),
        roles=COORDINATORS,
    )
    registry.add_command(
        "caidat",
        render("rounds/command_description.j2", command="caidat"),
        settings_command,
        roles=everyone,
    )
    registry.add_button("snooze", snooze_button, roles={UserRole.FOCAL})
    registry.add_button("reminder_tasks", tasks_button, roles={UserRole.FOCAL})
