"""The daily digest at 07:30 on working days, one message per reader, written to the outbox.

Coordinators get the whole picture (status per area, new reports, overdue agencies, rounds
closing soon); a focal point gets only its agency's open items, and nothing at all when there
is nothing to do — and a deputy only while the main focal point is away; leaders get five
lines. A muted contact (/caidat) gets none. The key
`digest:{day}:c{contact}` makes every run after the first one on a day a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from core.calendar import WorkCalendar
from core.model import UserRole
from core.outgoing import Outgoing
from core.review import DIFFICULTY_WORKING_DAYS, answer_overdue
from core.rounds import RoundSchedule
from messages.render import render
from scheduler.context import Scheduling
from scheduler.delivery import Relevance
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.deputies import recipients_by_agency
from storage.outbox import OutboxItem
from storage.review.store import waiting_difficulties
from storage.scheduling.digest import (
    agency_names,
    blocked_count,
    reports_since,
    status_by_area,
    unreached_on_zalo,
)
from storage.scheduling.obligations import Obligation, round_obligations, task_obligations
from storage.scheduling.rounds import latest_plan, open_rounds
from storage.tables.scheduling import JobRun
from storage.tables.shared import Contact, Outbox, Plan, Task

SHOWN = 15  # list lengths in a digest
FOCAL_HORIZON = 7  # working days ahead a focal point's task deadlines show up


@dataclass
class DigestResult:
    day: date | None = None
    skipped: str | None = None
    written: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Closing:
    title: str
    code: str
    deadline: date
    missing: int


def digest_due(ctx: Scheduling) -> tuple[date, str | None]:
    now = ctx.now()
    local = ctx.window.local(now)
    calendar = ctx.calendar()
    if not calendar.is_working_day(local.date()):
        return local.date(), "day_off"
    if local.time() < ctx.digest_at:
        return local.date(), "too_early"
    if not ctx.window.is_open(now, calendar):
        return local.date(), "window_closed"
    return local.date(), None


class _Facts:
    """What every digest of the day is built from, computed once per run."""

    def __init__(self, session: Session, ctx: Scheduling, today: date, calendar: WorkCalendar):
        self.session, self.ctx, self.today, self.calendar = session, ctx, today, calendar
        self.plan: Plan | None = latest_plan(session)
        self.rounds = open_rounds(session)
        self.round_by_id = {r.id: r for r in self.rounds}
        started = round_obligations(session, self.rounds, today, ctx.tz)
        dated = task_obligations(session, None, plan_ids=[self.plan.id] if self.plan else None)
        self.overdue = [o for o in started + dated if self._late(o)]
        horizon = calendar.add_working_days(today, FOCAL_HORIZON)
        self.open_by_agency: dict[int, list[Obligation]] = defaultdict(list)
        for o in started:
            self.open_by_agency[o.agency_id].append(o)
        for o in dated:
            if o.deadline and calendar.effective_deadline(o.deadline) <= horizon:
                self.open_by_agency[o.agency_id].append(o)
        self.missing_by_round: dict[int, set[int]] = defaultdict(set)
        for o in started:
            self.missing_by_round[o.round_id].add(o.agency_id)  # type: ignore[index]
        previous = calendar.previous_working_day(today)
        self.since: datetime = ctx.window.at(previous, ctx.digest_at)
        self.new_total, self.new_reports = reports_since(session, self.since, SHOWN)
        self.areas = status_by_area(session, self.plan) if self.plan else []
        self.blocked = blocked_count(session, self.plan) if self.plan else 0
        late_agencies = sorted({o.agency_id for o in self.overdue})
        self.names = agency_names(session, late_agencies + list(self.open_by_agency))
        self.closing = self._closing()
        # difficulties raised in reports and still without an answer after 2 working days
        self.unanswered = [
            d
            for d in waiting_difficulties(session)
            if answer_overdue(d.submitted_at.astimezone(ctx.tz).date(), today, calendar)
        ]
        self.unreached = unreached_on_zalo(session, self.since)

    def _late(self, o: Obligation) -> bool:
        return o.deadline is not None and self.calendar.effective_deadline(o.deadline) < self.today

    def _closing(self) -> list[Closing]:
        limit = self.calendar.add_working_days(self.today, self.ctx.closing_within)
        found = []
        for row in self.rounds:
            period = RoundSchedule(row.deadline, row.opens_on, row.recurrence).current(self.today)
            due = self.calendar.effective_deadline(period.deadline)
            if self.today <= due <= limit:
                missing = len(self.missing_by_round.get(row.id, set()))
                found.append(Closing(row.title, row.code, period.deadline, missing))
        return sorted(found, key=lambda c: c.deadline)

    def overdue_agencies(self) -> list[dict[str, object]]:
        counts: dict[int, int] = defaultdict(int)
        for o in self.overdue:
            counts[o.agency_id] += max(1, len(o.task_ids))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], self.names.get(item[0], "")))
        return [{"agency": self.names.get(a, str(a)), "items": n} for a, n in ranked]

    def describe(self, o: Obligation) -> dict[str, object]:
        round_ = self.round_by_id.get(o.round_id) if o.round_id else None
        tasks: list[Task] = []
        if o.task_ids:
            tasks = list(
                self.session.exec(select(Task).where(col(Task.id).in_(list(o.task_ids[:5])))).all()
            )
        return {
            "title": round_.title if round_ else None,
            "deadline": o.deadline,
            "late": self._late(o),
            "count": len(o.task_ids),
            "refs": [t.ref for t in tasks],
        }


def sweep_digest(ctx: Scheduling) -> DigestResult:
    """Write today's digests (once per contact per working day)."""
    today, why_not = digest_due(ctx)
    if why_not:
        return DigestResult(today, why_not)
    result = DigestResult(today)
    now = ctx.now()
    with transaction(ctx.engine) as session:
        if not claim_day(session, "digest", today, now):
            return DigestResult(today, "done_today")
        readers = session.exec(
            select(Contact)
            .where(
                Contact.active == True,  # noqa: E712
                Contact.digest_muted == False,  # noqa: E712
                col(Contact.role).in_(
                    [UserRole.COORDINATOR.value, UserRole.FOCAL.value, UserRole.LEADER.value]
                ),
            )
            .order_by(Contact.id)
        ).all()
        readers = _on_duty(session, readers, today)
        keys = {c.id: f"digest:{today.isoformat()}:c{c.id}" for c in readers}
        done = outbox_repo.existing_keys(session, keys.values())
        readers = [c for c in readers if keys[c.id] not in done]
        if not readers:
            return result
        facts = _Facts(session, ctx, today, ctx.calendar())
        items = []
        for contact in readers:
            text = _text_for(contact, facts)
            if text is None:
                continue
            items.append(
                OutboxItem(
                    key=keys[contact.id],
                    channel=contact.channel,
                    chat_id=contact.chat_id,
                    contact_id=contact.id,
                    message=Outgoing(text=text),
                    kind="digest",
                    not_before=now,
                )
            )
            result.written[contact.role] = result.written.get(contact.role, 0) + 1
        outbox_repo.enqueue_many(session, items, now)
    return result


def _on_duty(session: Session, readers: Sequence[Contact], today: date) -> list[Contact]:
    """Focal points read their agency's digest only on the days they receive its reminders
    (`core.deputies.recipients`: the main focal point, or while it is away its deputies), so a
    deputy is not told every morning what the main focal point is handling."""
    agencies = {c.agency_id for c in readers if c.role == UserRole.FOCAL.value and c.agency_id}
    if not agencies:
        return list(readers)
    on_duty = {
        c.id for people in recipients_by_agency(session, agencies, today).values() for c in people
    }
    return [c for c in readers if c.role != UserRole.FOCAL.value or c.id in on_duty]


def claim_day(session: Session, job: str, day: date, now: datetime) -> bool:
    """Mark `job` as run for `day` in this transaction; False if a run already did.

    The marker commits with the digests it guards, so a crash leaves neither; two processes
    racing hit the unique constraint and one of them rolls back.
    """
    if session.exec(select(JobRun).where(JobRun.job == job, JobRun.day == day)).first():
        return False
    session.add(JobRun(job=job, day=day, at=now))
    session.flush()
    return True


def _text_for(contact: Contact, facts: _Facts) -> str | None:
    if contact.role == UserRole.COORDINATOR.value:
        overdue = facts.overdue_agencies()
        return render(
            "digest/coordinator.j2",
            today=facts.today,
            plan=facts.plan,
            areas=facts.areas,
            since=facts.since,
            new_total=facts.new_total,
            new_reports=facts.new_reports,
            overdue=overdue[:SHOWN],
            overdue_more=max(0, len(overdue) - SHOWN),
            closing=facts.closing,
            unanswered=facts.unanswered[:SHOWN],
            unanswered_more=max(0, len(facts.unanswered) - SHOWN),
            answer_within=DIFFICULTY_WORKING_DAYS,
            unreached=facts.unreached.people[:SHOWN],
            unreached_more=max(0, len(facts.unreached.people) - SHOWN),
            reminders_unsent=facts.unreached.reminders,
        )
    if contact.role == UserRole.LEADER.value:
        total = sum(a.total for a in facts.areas)
        done = sum(a.counts.get("done", 0) for a in facts.areas)
        return render(
            "digest/leader.j2",
            today=facts.today,
            plan=facts.plan,
            total=total,
            done=done,
            new_total=facts.new_total,
            overdue=len({o.agency_id for o in facts.overdue}),
            closing=facts.closing,
            blocked=facts.blocked,
        )
    if contact.agency_id is None:
        return None
    items = facts.open_by_agency.get(contact.agency_id, [])
    if not items:
        return None  # nothing to do: no digest at all
    described = sorted(
        (facts.describe(o) for o in items),
        key=lambda d: (not d["late"], d["deadline"] or date.max),
    )
    return render(
        "digest/focal.j2",
        today=facts.today,
        agency=facts.names.get(contact.agency_id, ""),
        items=described,
    )


def digest_relevance(session: Session, row: Outbox, today: date) -> str | None:
    """A digest written for an earlier day is not sent late (the next one is on its way)."""
    parts = row.idempotency_key.split(":")
    if len(parts) >= 2 and parts[0] == "digest" and parts[1] < today.isoformat():
        return "stale: the digest was for an earlier working day"
    return None


DIGEST_RELEVANCE: Relevance = digest_relevance
