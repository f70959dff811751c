"""The scheduling feature in chat: /kybaocao, /nhacnho, /caidat, reminder buttons.

`register(registry)` plugs the commands, buttons and flows into the chat (bot/app.py
FEATURES); the reminder and digest jobs and the outbox delivery worker are built by the
composition root (bot/app.py) from `scheduling_from`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.features.extensions import absence_part
from bot.settings import Settings
from core.calendar import SendWindow, WorkCalendar
from core.commands import STAFF, ChatContext, PressedButton, Registry, per_update
from core.flows.broadcast import FLOW as BROADCAST_FLOW
from core.flows.broadcast import build_broadcast_flow
from core.flows.rounds import FLOW as ROUND_FLOW
from core.flows.rounds import RoundStore, build_round_flow
from core.model import UserRole
from core.outgoing import Outgoing
from core.reminders import ReminderPolicy
from messages.render import render
from scheduler.context import Scheduling
from scheduler.reminders import REPORT_ACTION, reminder_tasks, snooze
from storage.scheduling.broadcast import SqlBroadcastStore
from storage.scheduling.digest import digest_muted, set_digest_muted
from storage.scheduling.rounds import SqlRoundStore

COORDINATORS = frozenset({UserRole.COORDINATOR})
EVERYONE = frozenset({UserRole.FOCAL, UserRole.COORDINATOR, UserRole.LEADER, UserRole.ADMIN})


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


def _today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def _calendar(ctx: ChatContext) -> WorkCalendar:
    return broadcast_store(ctx).calendar(_today(ctx))


def round_store(ctx: ChatContext) -> RoundStore:
    """The round flow's port on this update's session (one per update)."""
    return per_update(ctx, "sched_rounds", lambda: SqlRoundStore(ctx.session))


def broadcast_store(ctx: ChatContext) -> SqlBroadcastStore:
    """The broadcast flow's port on this update's session (it keeps the calendar it loads)."""
    return per_update(
        ctx, "sched_broadcast", lambda: SqlBroadcastStore(ctx.session, ctx.config.timezone)
    )


# ---------------------------------------------------------------------------- /caidat
def _settings_message(ctx: ChatContext, template: str, muted: bool) -> Outgoing:
    """The digest setting as it is now, with the one button that changes it."""
    button = ctx.button(
        render("digest/settings_button.j2", muted=not muted), "digest_set", {"muted": not muted}
    )
    text = render(template, muted=muted, at=ctx.config.digest_time)
    absence, rows = absence_part(ctx)  # a focal point's absence (bot/features/extensions.py)
    return Outgoing(f"{text}\n\n{absence}" if absence else text, buttons=[[button], *rows])


def settings_command(ctx: ChatContext) -> Outgoing:
    """Show the current settings first; changing one is a press, never a side effect."""
    assert ctx.actor is not None  # linked users only
    muted = digest_muted(ctx.session, ctx.actor.contact_id)
    return _settings_message(ctx, "digest/settings.j2", muted)


def digest_button(ctx: ChatContext, pressed: PressedButton) -> Outgoing:
    """The /caidat button: set the digest to what the button said (pressing twice is harmless)."""
    assert ctx.actor is not None
    muted = bool(pressed.args.get("muted"))
    set_digest_muted(ctx.session, ctx.actor.contact_id, muted)
    ctx.audit("digest_mute", target=f"contact:{ctx.actor.contact_id}", muted=muted)
    return _settings_message(ctx, "digest/muted.j2", muted)


# ---------------------------------------------------------------------------- reminder buttons
def snooze_button(ctx: ChatContext, pressed: PressedButton) -> Outgoing:
    assert ctx.actor is not None
    key = str(pressed.args.get("key", ""))
    tz = ctx.config.timezone
    outcome = snooze(ctx.session, key, ctx.actor.contact_id, _today(ctx), _calendar(ctx), tz)
    ctx.audit(
        "reminder_snooze",
        target=key[:300],
        outcome="ok" if outcome.until else "refused",
        until=outcome.until.isoformat() if outcome.until else None,
    )
    return Outgoing(render(outcome.template, until=outcome.until))


def tasks_button(ctx: ChatContext, pressed: PressedButton) -> Outgoing:
    """A multi-task reminder's "Báo cáo ngay": its open tasks, each a report button."""
    assert ctx.actor is not None
    key = str(pressed.args.get("key", ""))
    agency, round_, tasks = reminder_tasks(
        ctx.session, key, ctx.actor.contact_id, _today(ctx), ctx.config.timezone
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


# ---------------------------------------------------------------------------- plug-in
def register(registry: Registry) -> None:
    registry.add_flow(build_round_flow(round_store))
    registry.add_flow(build_broadcast_flow(broadcast_store))
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
        roles=EVERYONE,
    )
    registry.add_button("digest_set", digest_button, roles=EVERYONE, edit=True)
    registry.add_button("snooze", snooze_button, roles={UserRole.FOCAL})
    registry.add_button("reminder_tasks", tasks_button, roles={UserRole.FOCAL})
