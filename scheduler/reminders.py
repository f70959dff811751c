"""The reminder sweep: writes today's reminders, escalations and check-ins to the outbox.

Runs every few minutes; the database decides. Today's ladder level for every open obligation
is computed from the calendar, each message gets an idempotency key without the time of the
run, so the 08:05 run, the 08:10 run and a run after a restart at 10:40 all write the same
rows once. After the send window closes, today's reminders are no longer written: a reminder
missed because parbot was down all day is not sent late on another day.

Keys: reminder:{source}:{agency}:{deadline}:{level}:c{contact} (the deadline, not the day, is
in the key so an admin's calendar edit cannot make the same level fire twice; a new deadline
starts a new ladder).
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, col, select

from core.calendar import WorkCalendar
from core.model import AssignmentRole, UserRole
from core.outgoing import Button, Notice, Outgoing
from core.reminders import LevelKind, ReminderLevel, snooze_until
from core.round_documents import asks_document
from core.rounds import add_months
from messages.render import render
from scheduler.context import Scheduling
from scheduler.delivery import Relevance
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.deputies import recipients_by_agency
from storage.extensions import approved_dates
from storage.outbox import OutboxItem
from storage.scheduling.obligations import (
    CHECKIN_SOURCE,
    TASK_SOURCE,
    Obligation,
    checkin_obligations,
    round_obligations,
    start_of,
    still_open,
    task_obligations,
)
from storage.scheduling.rounds import open_rounds
from storage.tables.scheduling import ReminderRecord, Snooze
from storage.tables.shared import (
    Agency,
    Assignment,
    ButtonToken,
    Contact,
    Outbox,
    ReportingRound,
    Task,
)

SHOWN_TASKS = 10  # tasks listed in one reminder; the rest are counted
BUTTON_TTL = timedelta(days=21)
WRITE_CHUNK = 1000  # reminders per committed transaction
REPORT_ACTION = "report_task"  # provided by the chat feature (docs/chat-extensions.md)
PICK_ACTION = "reminder_tasks"  # ours: list the reminder's open tasks as report buttons
SNOOZE_ACTION = "snooze"
EXTENSION_ACTION = "extension_request"  # «Xin gia hạn» (bot/features/extensions.py)
DOCUMENT_ACTION = "round_document"  # bot/features/round_documents.py: a round's document


@dataclass
class SweepResult:
    day: date | None = None
    skipped: str | None = None
    obligations: int = 0
    written: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Planned:
    """One reminder message for one contact, before it is written."""

    key: str
    contact: Contact
    obligation: Obligation
    level: ReminderLevel
    snoozed_from: int | None = None


def due_now(ctx: Scheduling, at: datetime | None = None) -> tuple[date, str | None]:
    """Today's date and why nothing is due now (None when reminders may be written)."""
    now = at or ctx.now()
    local = ctx.window.local(now)
    today = local.date()
    calendar = ctx.calendar()
    if not calendar.is_working_day(today):
        return today, "day_off"
    if local.time() < ctx.policy.at:
        return today, "too_early"
    if not ctx.window.is_open(now, calendar):
        return today, "window_closed"
    return today, None


def obligations_due(
    session: Session, ctx: Scheduling, today: date, calendar: WorkCalendar
) -> list[tuple[Obligation, ReminderLevel]]:
    """Every obligation that calls for a reminder today, with its level: "what is due now"."""
    levels = ctx.policy.deadlines_for(calendar, today)
    if not levels:
        return []
    found = round_obligations(session, open_rounds(session), today, ctx.tz, levels.keys())
    found += task_obligations(session, levels.keys())
    due = [(o, levels[o.deadline]) for o in found if o.deadline in levels]
    if ctx.policy.checkin_due(calendar, today):
        since = start_of(add_months(today, -1), ctx.tz)
        checkins = checkin_obligations(session, since)
        due += [
            (
                Obligation(
                    CHECKIN_SOURCE, o.agency_id, None, add_months(today, -1), None, o.task_ids
                ),
                ReminderLevel(LevelKind.CHECKIN),
            )
            for o in checkins
        ]
    return due


def _key(obligation: Obligation, level: ReminderLevel, contact_id: int, today: date) -> str:
    when = obligation.deadline.isoformat() if obligation.deadline else today.strftime("%Y-%m")
    return f"reminder:{obligation.source}:{obligation.agency_id}:{when}:{level.code}:c{contact_id}"


def _contacts_by_agency(
    session: Session, agency_ids: Iterable[int], role: UserRole
) -> dict[int, list[Contact]]:
    ids = list(set(agency_ids))
    found: dict[int, list[Contact]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Contact)
            .where(
                col(Contact.agency_id).in_(ids[start : start + 500]),
                Contact.role == role.value,
                Contact.active == True,  # noqa: E712
            )
            .order_by(Contact.id)
        ).all()
        for contact in rows:
            found[contact.agency_id].append(contact)  # type: ignore[index]
    return found


def coordinators(session: Session) -> list[Contact]:
    return list(
        session.exec(
            select(Contact)
            .where(
                Contact.role == UserRole.COORDINATOR.value,
                Contact.active == True,  # noqa: E712
            )
            .order_by(Contact.id)
        ).all()
    )


def sweep(ctx: Scheduling) -> SweepResult:
    """Write the reminders due now; safe to run as often as you like."""
    today, why_not = due_now(ctx)
    if why_not:
        return SweepResult(today, why_not)
    calendar = ctx.calendar()
    now = ctx.now()
    result = SweepResult(today)
    with transaction(ctx.engine) as session:
        due = obligations_due(session, ctx, today, calendar)
        result.obligations = len(due)
        planned = _plan_focal(session, due, today)
        planned += _plan_snoozed(session, ctx, today)
        writer = _Writer(session, ctx, today, now)
        result.written += writer.write(planned)
        escalations = [(o, lv) for o, lv in due if lv.kind is LevelKind.ESCALATE]
        result.written += writer.escalate(escalations)
        for item in writer.levels:
            result.by_level[item] = result.by_level.get(item, 0) + 1
    return result


def _plan_focal(
    session: Session, due: Sequence[tuple[Obligation, ReminderLevel]], today: date
) -> list[Planned]:
    # the main focal point, or its deputies (or leaders) while it is away: core.deputies
    focal = recipients_by_agency(session, (o.agency_id for o, lv in due if lv.to_focal), today)
    planned = []
    for obligation, level in due:
        if not level.to_focal:
            continue
        for contact in focal.get(obligation.agency_id, []):
            planned.append(
                Planned(_key(obligation, level, contact.id, today), contact, obligation, level)
            )
    return planned


def _plan_snoozed(session: Session, ctx: Scheduling, today: date) -> list[Planned]:
    """Snoozed reminders due today, if their obligation is still open; older ones lapse."""
    planned = []
    for snooze in session.exec(select(Snooze).where(Snooze.done == False)).all():  # noqa: E712
        if snooze.until > today:
            continue
        snooze.done = True
        session.add(snooze)
        if snooze.until < today:
            continue
        record = session.get(ReminderRecord, snooze.reminder_id)
        contact = session.get(Contact, snooze.contact_id)
        if record is None or contact is None or not contact.active:
            continue
        obligation = obligation_of(record)
        remaining = still_open(session, obligation, ctx.tz, today)
        if remaining is None:
            continue
        obligation = Obligation(
            obligation.source,
            obligation.agency_id,
            obligation.deadline,
            obligation.opens,
            obligation.round_id,
            remaining,
        )
        level = ReminderLevel.parse(record.level)
        key = _key(obligation, level, contact.id, record.day) + ":snooze"
        planned.append(Planned(key, contact, obligation, level, snoozed_from=record.id))
    return planned


def obligation_of(record: ReminderRecord) -> Obligation:
    return Obligation(
        record.source.split("@", 1)[0],
        record.agency_id,
        record.deadline,
        record.opens,
        record.round_id,
        tuple(json.loads(record.task_ids)),
    )


class _Writer:
    """Turns planned reminders into outbox rows, reminder records and button tokens."""

    def __init__(self, session: Session, ctx: Scheduling, today: date, now: datetime) -> None:
        self.session, self.ctx, self.today, self.now = session, ctx, today, now
        self.not_before = max(now, ctx.window.at(today, ctx.policy.at))
        self.levels: list[str] = []
        self._agencies: dict[int, str] = {}
        self._tasks: dict[int, tuple[str, str]] = {}
        self._rounds: dict[int, ReportingRound] = {}
        self._labels: dict[str, str] = {}
        self._extended: dict[tuple[int, int], date] | None = None
        # on the same day a snoozed repeat yields to a fresh reminder of the same obligation
        self._fresh: set[tuple[str, int]] = set()

    def agency(self, agency_id: int) -> str:
        if agency_id not in self._agencies:
            self._preload_agencies([agency_id])
        return self._agencies.get(agency_id, "")

    def _preload_agencies(self, ids: Iterable[int]) -> None:
        missing = list({i for i in ids if i not in self._agencies})
        for start in range(0, len(missing), 500):
            query = select(Agency.id, Agency.name).where(
                col(Agency.id).in_(missing[start : start + 500])
            )
            self._agencies.update(dict(self.session.connection().execute(query).all()))

    def tasks(self, ids: Sequence[int]) -> list[tuple[str, str]]:
        """(ref, title) of `ids`, loaded in bulk and kept."""
        missing = list({i for i in ids if i not in self._tasks})
        for start in range(0, len(missing), 500):
            query = select(Task.id, Task.ref, Task.title).where(
                col(Task.id).in_(missing[start : start + 500])
            )
            for task_id, ref, title in self.session.connection().execute(query):
                self._tasks[task_id] = (ref, title)
        return [self._tasks[i] for i in ids if i in self._tasks]

    def round(self, round_id: int | None) -> ReportingRound | None:
        if round_id is None:
            return None
        if round_id not in self._rounds:
            self._rounds[round_id] = self.session.get(ReportingRound, round_id)  # type: ignore[assignment]
        return self._rounds[round_id]

    def _context(self, obligation: Obligation) -> dict[str, object]:
        tasks = self.tasks(obligation.task_ids[:SHOWN_TASKS])
        round_ = self.round(obligation.round_id)
        what = "round" if round_ else ("checkin" if obligation.source == CHECKIN_SOURCE else "task")
        if self._extended is None:  # approved extensions, read once per sweep
            self._extended = approved_dates(self.session)
        extended = what == "task" and any(
            self._extended.get((t, obligation.agency_id)) == obligation.deadline
            for t in obligation.task_ids
        )
        return {
            "what": what,
            "extended": extended,
            "title": round_.title if round_ else "",
            "ask": round_.ask if round_ else "",
            "document": round_ is not None and asks_document(round_.asks),
            "agency": self.agency(obligation.agency_id),
            "deadline": obligation.deadline,
            "tasks": [{"ref": ref, "title": title} for ref, title in tasks],
            "more": max(0, len(obligation.task_ids) - SHOWN_TASKS),
        }

    def write(self, planned: Sequence[Planned]) -> int:
        """Outbox rows, button tokens and records, in chunks each committed on its own.

        Written with bulk inserts (a nationwide 08:00 run writes ~10,000 reminders), and
        committed every WRITE_CHUNK messages so the chat's own writes are never held up for
        long; a crash between chunks loses nothing, the next run writes the rest (keys).
        """
        fresh = [p for p in planned if p.snoozed_from is None]
        for p in fresh:
            self._fresh.add((p.obligation.key, p.contact.id))
        repeats = [
            p
            for p in planned
            if p.snoozed_from is not None and (p.obligation.key, p.contact.id) not in self._fresh
        ]
        candidates = fresh + repeats
        existing = outbox_repo.existing_keys(self.session, (p.key for p in candidates))
        new = [p for p in candidates if p.key not in existing]
        self._preload_agencies(p.obligation.agency_id for p in new)
        self.tasks([t for p in new for t in p.obligation.task_ids[:SHOWN_TASKS]])
        written = 0
        for start in range(0, len(new), WRITE_CHUNK):
            chunk = new[start : start + WRITE_CHUNK]
            tokens: list[dict[str, object]] = []
            items: list[OutboxItem] = []
            for p in chunk:
                message, rows = self._message(p)
                tokens += rows
                items.append(
                    OutboxItem(
                        key=p.key,
                        channel=p.contact.channel,
                        chat_id=p.contact.chat_id,
                        contact_id=p.contact.id,
                        message=message,
                        kind="checkin" if p.level.kind is LevelKind.CHECKIN else "reminder",
                        not_before=self.not_before,
                    )
                )
            if tokens:
                self.session.execute(insert(ButtonToken), tokens)
            ids = outbox_repo.insert_many(self.session, items, self.now)
            records = [
                {
                    "outbox_id": ids[p.key],
                    "source": p.obligation.source,
                    "round_id": p.obligation.round_id,
                    "agency_id": p.obligation.agency_id,
                    "contact_id": p.contact.id,
                    "task_ids": json.dumps(list(p.obligation.task_ids)),
                    "level": p.level.code,
                    "day": self.today,
                    "deadline": p.obligation.deadline,
                    "opens": p.obligation.opens,
                    "snoozed_from": p.snoozed_from,
                    "created_at": self.now,
                }
                for p in chunk
            ]
            self.session.execute(insert(ReminderRecord), records)
            self.session.commit()
            self.levels.extend(p.level.code for p in chunk)
            written += len(chunk)
        return written

    def _label(self, template: str) -> str:
        if template not in self._labels:
            self._labels[template] = render(template)
        return self._labels[template]

    def _button(
        self, contact_id: int, action: str, args: dict[str, object]
    ) -> tuple[str, dict[str, object]]:
        """A button token row, as storage.chat.buttons.issue_button makes it, for a bulk insert."""
        token = "b:" + secrets.token_urlsafe(12)
        return token, {
            "token": token,
            "contact_id": contact_id,
            "action": action,
            "args": json.dumps(args, ensure_ascii=False),
            "created_at": self.now,
            "expires_at": self.now + BUTTON_TTL,
            "used_at": None,
        }

    def _message(self, p: Planned) -> tuple[Outgoing, list[dict[str, object]]]:
        context = self._context(p.obligation)
        template = (
            "reminders/checkin.j2" if p.level.kind is LevelKind.CHECKIN else "reminders/reminder.j2"
        )
        text = render(
            template,
            kind=p.level.kind.value,
            n=p.level.n,
            snoozed=p.snoozed_from is not None,
            escalate_after=self.ctx.policy.overdue_days,
            **context,
        )
        contact_id: int = p.contact.id
        tasks = p.obligation.task_ids
        if p.contact.role != UserRole.FOCAL.value:
            return Outgoing(text=text), []  # a leader standing in: told, nothing to press
        label = "reminders/button_report.j2"
        if context["document"]:  # the round asks for a document: its own flow
            label = "reminders/button_send_document.j2"
            args: dict[str, object] = {
                "round_id": p.obligation.round_id,
                "agency_id": p.obligation.agency_id,
            }
            report, report_row = self._button(contact_id, DOCUMENT_ACTION, args)
        elif len(tasks) == 1:
            args = {
                "task_id": tasks[0],
                "agency_id": p.obligation.agency_id,
                "round_id": p.obligation.round_id,
            }
            report, report_row = self._button(contact_id, REPORT_ACTION, args)
        else:
            report, report_row = self._button(contact_id, PICK_ACTION, {"key": p.key})
        rows = [report_row]
        buttons = [Button(self._label(label), report)]
        if p.snoozed_from is None:
            snooze_token, snooze_row = self._button(contact_id, SNOOZE_ACTION, {"key": p.key})
            rows.append(snooze_row)
            buttons.append(Button(self._label("reminders/button_snooze.j2"), snooze_token))
        if p.obligation.source == TASK_SOURCE and p.obligation.round_id is None:
            extension_args: dict[str, object] = {"agency_id": p.obligation.agency_id}
            if len(tasks) == 1:
                extension_args["task_id"] = tasks[0]
            extend, extend_row = self._button(contact_id, EXTENSION_ACTION, extension_args)
            rows.append(extend_row)
            buttons.append(Button(self._label("reminders/button_extension.j2"), extend))
        return Outgoing(text=text, buttons=[buttons], notice=self._notice(p, context)), rows

    def _notice(self, p: Planned, context: dict[str, object]) -> Notice:
        """The reminder's facts for template-only channels (ZNS): task or round, deadline."""
        round_ = self.round(p.obligation.round_id)
        tasks = context["tasks"]
        assert isinstance(tasks, list)
        deadline = p.obligation.deadline.isoformat() if p.obligation.deadline else None
        if round_ is not None:
            return Notice(round_.code, round_.title, deadline)
        if len(tasks) == 1 and not context["more"]:
            return Notice(tasks[0]["ref"], tasks[0]["title"], deadline)
        count = len(p.obligation.task_ids)
        refs = ", ".join(str(t["ref"]) for t in tasks)
        return Notice(refs, render("reminders/notice_tasks.j2", count=count), deadline)

    def escalate(self, escalations: Sequence[tuple[Obligation, ReminderLevel]]) -> int:
        """The 4th overdue working day: each agency's leaders, and one list per coordinator."""
        if not escalations:
            return 0
        late = self.ctx.policy.overdue_days + 1
        leaders = _contacts_by_agency(
            self.session, (o.agency_id for o, _ in escalations), UserRole.LEADER
        )
        items: list[OutboxItem] = []
        summary = []
        for obligation, level in escalations:
            context = self._context(obligation)
            summary.append(
                {
                    "agency": context["agency"],
                    "what": context["what"],
                    "title": context["title"],
                    "deadline": obligation.deadline,
                    "count": len(obligation.task_ids),
                }
            )
            text = render(
                "reminders/escalation_leader.j2",
                late=late,
                reminders=self.ctx.policy.overdue_days,
                **context,
            )
            for leader in leaders.get(obligation.agency_id, []):
                items.append(
                    OutboxItem(
                        key=_key(obligation, level, leader.id, self.today),
                        channel=leader.channel,
                        chat_id=leader.chat_id,
                        contact_id=leader.id,
                        message=Outgoing(text=text),
                        kind="escalation",
                        not_before=self.not_before,
                    )
                )
        text = render("reminders/escalation_coordinator.j2", late=late, items=summary)
        for coordinator in coordinators(self.session):
            items.append(
                OutboxItem(
                    key=f"escalation:{self.today.isoformat()}:c{coordinator.id}",
                    channel=coordinator.channel,
                    chat_id=coordinator.chat_id,
                    contact_id=coordinator.id,
                    message=Outgoing(text=text),
                    kind="escalation",
                    not_before=self.not_before,
                )
            )
        rows = outbox_repo.enqueue_many(self.session, items, self.now)
        self.levels.extend("esc" for _ in rows)
        return len(rows)


# ---------------------------------------------------------------------------- delivery hooks
def reminder_relevance(tz: ZoneInfo) -> Relevance:
    """Checked right before sending: a reminder stops the moment the report arrives."""

    def check(session: Session, row: Outbox, today: date) -> str | None:
        record = session.exec(
            select(ReminderRecord).where(ReminderRecord.outbox_id == row.id)
        ).first()
        if record is None:
            return None
        if record.day < today:
            return "stale: the reminder was for an earlier working day"
        contact = session.get(Contact, record.contact_id)
        if contact is None or not contact.active:
            return "inactive: the contact no longer receives messages"
        if still_open(session, obligation_of(record), tz, today) is None:
            return "reported: the report arrived before the reminder went out"
        return None

    return check


# ---------------------------------------------------------------------------- buttons
@dataclass(frozen=True)
class SnoozeOutcome:
    template: str
    until: date | None = None


def snooze(
    session: Session, key: str, contact_id: int, today: date, calendar: WorkCalendar, tz: ZoneInfo
) -> SnoozeOutcome:
    """ "Nhắc lại sau": once per level, to the next working day, unless already reported."""
    record = _record_for_key(session, key)
    if record is None or record.contact_id != contact_id:
        return SnoozeOutcome("reminders/snooze_gone.j2")
    obligation = obligation_of(record)
    if still_open(session, obligation, tz, today) is None:
        return SnoozeOutcome("reminders/snooze_gone.j2")
    snooze_key = f"{obligation.key}:{record.level}:c{contact_id}"
    if session.exec(select(Snooze).where(Snooze.key == snooze_key)).first() is not None:
        return SnoozeOutcome("reminders/snooze_once.j2")
    until = snooze_until(calendar, max(today, record.day))
    session.add(Snooze(key=snooze_key, reminder_id=record.id, contact_id=contact_id, until=until))
    session.flush()
    return SnoozeOutcome("reminders/snoozed.j2", until)


def _record_for_key(session: Session, key: str) -> ReminderRecord | None:
    outbox = session.exec(select(Outbox).where(Outbox.idempotency_key == key)).first()
    if outbox is None:
        return None
    return session.exec(select(ReminderRecord).where(ReminderRecord.outbox_id == outbox.id)).first()


def reminder_tasks(
    session: Session, key: str, contact_id: int, today: date, tz: ZoneInfo
) -> tuple[Agency | None, ReportingRound | None, list[Task]]:
    """The tasks a multi-task reminder still asks about, for "Báo cáo ngay".

    For an agency-level round (no task of its own) these are the agency's lead tasks.
    """
    record = _record_for_key(session, key)
    if record is None or record.contact_id != contact_id:
        return None, None, []
    agency = session.get(Agency, record.agency_id)
    round_ = session.get(ReportingRound, record.round_id) if record.round_id else None
    obligation = obligation_of(record)
    remaining = still_open(session, obligation, tz, today)
    if remaining is None:
        return agency, round_, []
    if remaining:
        ids = list(remaining)
    else:  # agency-level round: any of the agency's lead tasks in the round's plan
        query = (
            select(Task.id)
            .join(Assignment, col(Assignment.task_id) == Task.id)
            .where(
                Assignment.agency_id == record.agency_id,
                Assignment.role == AssignmentRole.LEAD.value,
            )
            .order_by(Task.position)
        )
        if round_ is not None and round_.plan_id is not None:
            query = query.where(Task.plan_id == round_.plan_id)
        ids = list(session.exec(query).all())
    tasks = session.exec(select(Task).where(col(Task.id).in_(ids))).all()
    order = {task_id: n for n, task_id in enumerate(ids)}
    return agency, round_, sorted(tasks, key=lambda t: order[t.id])
