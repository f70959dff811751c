"""Broadcasts in the database: recipients of an audience, the outbox rows, the tally.

Creating a broadcast writes, in one transaction, the broadcast row, one outbox row per
recipient (key `broadcast:{id}:c{contact}`, all with group_key `broadcast:{id}`), the progress
message for the coordinator and the audit row — so a crash either leaves all of it or none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.broadcast import AudienceKind, BroadcastAudience, Recipient, Tally
from core.calendar import WorkCalendar
from core.flows.broadcast import AreaInfo, AudienceRefused, BroadcastDraft
from core.flows.rounds import RoundInfo
from core.model import AssignmentRole, UserRole
from core.outgoing import Outgoing
from storage import outbox as outbox_repo
from storage.deputies import recipients_by_agency
from storage.outbox import OutboxItem
from storage.scheduling.calendar import default_years, load_calendar
from storage.scheduling.obligations import round_obligations, task_obligations
from storage.scheduling.rounds import SqlRoundStore, get_round, latest_plan, open_rounds
from storage.tables.scheduling import Broadcast
from storage.tables.shared import Agency, Area, Assignment, AuditLog, Contact, Outbox, Task

PROGRESS_KIND, TALLY_KIND, MESSAGE_KIND = "broadcast_progress", "broadcast_tally", "broadcast"


class BroadcastError(ValueError):
    """The audience names nothing that exists; the message is Vietnamese, for the user."""


def group_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def _agencies(
    session: Session, audience: BroadcastAudience, today: date, tz: ZoneInfo, cal: WorkCalendar
) -> list[int] | None:
    """Agency ids the audience means; None means every agency (all focal points)."""
    kind = audience.kind
    if kind is AudienceKind.ALL_FOCAL:
        return None
    if kind is AudienceKind.KIND:
        return list(session.exec(select(Agency.id).where(Agency.kind == audience.value)).all())
    if kind is AudienceKind.PICKED:
        found: dict[str, int] = dict(
            session.exec(
                select(Agency.code, Agency.id).where(col(Agency.code).in_(audience.codes))
            ).all()
        )
        missing = [c for c in audience.codes if c not in found]
        if missing:
            raise BroadcastError("không có cơ quan mã " + ", ".join(missing))
        return list(found.values())
    if kind is AudienceKind.AREA:
        plan = latest_plan(session)
        area = (
            session.exec(
                select(Area).where(Area.plan_id == plan.id, Area.code == audience.value)
            ).first()
            if plan
            else None
        )
        if area is None:
            raise BroadcastError(f"không có lĩnh vực {audience.value}")
        return list(
            session.exec(
                select(Assignment.agency_id)
                .join(Task, col(Task.id) == Assignment.task_id)
                .where(Task.area_id == area.id, Assignment.role == AssignmentRole.LEAD.value)
                .distinct()
            ).all()
        )
    if kind is AudienceKind.NOT_REPORTED:
        row = get_round(session, audience.value or "")
        if row is None:
            raise BroadcastError(f"không có kỳ báo cáo {audience.value}")
        return sorted({o.agency_id for o in round_obligations(session, [row], today, tz)})
    # OVERDUE: an unreported round period or an unfinished task past its deadline
    late = [
        o
        for o in round_obligations(session, open_rounds(session), today, tz)
        + task_obligations(session, None)
        if o.deadline is not None and cal.effective_deadline(o.deadline) < today
    ]
    return sorted({o.agency_id for o in late})


def recipients(
    session: Session, audience: BroadcastAudience, today: date, tz: ZoneInfo, cal: WorkCalendar
) -> list[Recipient]:
    """Who receives the nudge in each of the audience's active agencies, one row per chat
    account: the main focal point, or while it is away its deputies (or leaders) — the rule of
    `core.deputies.recipients`, the same as reminders."""
    agencies = _agencies(session, audience, today, tz, cal)
    active = select(Agency.id).where(Agency.active == True)  # noqa: E712
    if agencies is None:
        with_focal = active.where(
            col(Agency.id).in_(
                select(Contact.agency_id).where(Contact.role == UserRole.FOCAL.value)
            )
        )
        ids = list(session.exec(with_focal).all())
    else:
        ids = []
        for start in range(0, len(agencies), 500):
            chunk = agencies[start : start + 500]
            ids += list(session.exec(active.where(col(Agency.id).in_(chunk))).all())
    found = [
        Recipient(contact.id, contact.channel, contact.chat_id, agency_id)
        for agency_id, contacts in recipients_by_agency(session, ids, today).items()
        for contact in contacts
    ]
    return sorted({r.contact_id: r for r in found}.values(), key=lambda r: r.contact_id)


def create_broadcast(
    session: Session,
    *,
    audience: BroadcastAudience,
    message: Outgoing,
    progress: Outgoing,
    targets: Sequence[Recipient],
    sender: Contact | None,
    actor: str,
    now: datetime,
    not_before: datetime | None = None,
) -> Broadcast:
    """The broadcast, its outbox rows, the progress message and the audit row, together."""
    if not targets:
        raise BroadcastError("không có người nhận nào")
    row = Broadcast(
        created_by=sender.id if sender else None,
        actor=actor,
        audience=audience.to_json(),
        text=message.text,
        total=len(targets),
        status="queued",
        progress_chat_id=sender.chat_id if sender else None,
        progress_channel=sender.channel if sender else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    key = group_key(row.id)
    items = [
        OutboxItem(
            key=f"{key}:c{t.contact_id}",
            channel=t.channel,
            chat_id=t.chat_id,
            contact_id=t.contact_id,
            message=message,
            kind=MESSAGE_KIND,
            not_before=not_before or now,
            group_key=key,
        )
        for t in targets
    ]
    outbox_repo.insert_many(session, items, now)  # new broadcast id: every key is new
    if sender is not None:
        shown = outbox_repo.enqueue(
            session,
            OutboxItem(
                key=f"{key}:progress",
                channel=sender.channel,
                chat_id=sender.chat_id,
                contact_id=sender.id,
                message=progress,
                kind=PROGRESS_KIND,
                group_key=key,
            ),
            now,
        )
        row.progress_outbox_id = shown.id if shown else None
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            contact_id=sender.id if sender else None,
            action="broadcast",
            target=key,
            outcome="ok",
            detail=json.dumps(
                {
                    "audience": json.loads(audience.to_json()),
                    "recipients": len(targets),
                    "text": message.text[:500],
                },
                ensure_ascii=False,
            ),
        )
    )
    session.add(row)
    session.flush()
    return row


def tally(session: Session, broadcast: Broadcast) -> Tally:
    key = group_key(broadcast.id)
    counts = dict(
        session.exec(
            select(Outbox.status, func.count())
            .where(Outbox.group_key == key, Outbox.kind == MESSAGE_KIND)
            .group_by(Outbox.status)
        ).all()
    )
    failed = outbox_repo.failure_reasons(session, key, MESSAGE_KIND)
    pending = counts.get(outbox_repo.PENDING, 0) + counts.get(outbox_repo.SENDING, 0)
    return Tally(broadcast.total, counts.get(outbox_repo.SENT, 0), failed, pending)


def progress_message_id(session: Session, broadcast: Broadcast) -> str | None:
    if broadcast.progress_outbox_id is None:
        return None
    row = session.get(Outbox, broadcast.progress_outbox_id)
    if row is None or row.status != outbox_repo.SENT:
        return None
    return row.message_id


class SqlBroadcastStore:
    """`core.flows.broadcast.BroadcastStore` on the update's session (/nhacnho).

    The working calendar is loaded once per update: the audience checks and the preview
    each ask for it.
    """

    def __init__(self, session: Session, tz: ZoneInfo) -> None:
        self.session = session
        self.tz = tz
        self.rounds = SqlRoundStore(session)
        self._calendar: WorkCalendar | None = None

    def calendar(self, today: date) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = load_calendar(self.session, default_years(today))
        return self._calendar

    def recipients(self, audience: BroadcastAudience, today: date) -> list[Recipient]:
        try:
            return recipients(self.session, audience, today, self.tz, self.calendar(today))
        except BroadcastError as exc:
            raise AudienceRefused(str(exc)) from exc

    def open_rounds(self) -> list[RoundInfo]:
        return self.rounds.open_rounds()

    def areas(self) -> list[AreaInfo]:
        plan = latest_plan(self.session)
        if plan is None:
            return []
        query = select(Area).where(Area.plan_id == plan.id).order_by(col(Area.position))
        rows = self.session.exec(query)
        return [AreaInfo(a.code, a.title) for a in rows]

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]:
        return self.rounds.find_agencies(typed, limit)

    def send(self, draft: BroadcastDraft) -> int:
        try:
            row = create_broadcast(
                self.session,
                audience=draft.audience,
                message=draft.message,
                progress=draft.progress,
                targets=draft.targets,
                sender=self.session.get(Contact, draft.sender_id),
                actor=draft.actor,
                now=draft.now,
            )
        except BroadcastError as exc:
            raise AudienceRefused(str(exc)) from exc
        return row.total
