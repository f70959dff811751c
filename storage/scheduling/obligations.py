"""What each agency still owes: the database side of "what is due now?".

Three sources of obligations, each one report per agency (per task where the source is about
tasks) and each closed the moment the report arrives:

* reporting rounds — agency-level rounds (agencies, kinds) are satisfied by any report the
  agency sends in the period; task-level rounds by a report on that task since the period
  opened;
* task deadlines from the plan (and dates a coordinator set for external schedules) — the
  lead agency is done when its latest report on the task says "done" (a deadline is about
  finishing, so "in progress" keeps the reminders coming);
* recurring ("Thường xuyên") tasks — a monthly check-in, satisfied by any report on the task
  in the last month.

Queries take the set of deadlines that call for a reminder today (see
`core.reminders.ReminderPolicy.deadlines_for`), so the work grows with what is due, not with
the number of assignments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core.model import AssignmentRole, ReportStatus, RuleKind
from core.review import RETURNED
from core.round_documents import DocumentStatus, asks_document
from core.rounds import Audience, Period, RoundSchedule
from storage.extensions import approved_dates
from storage.scheduling.rounds import audience_agency_ids
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Agency, Assignment, ReportingRound, StatusReport, Task

RETURNED_REVIEW = RETURNED.value

TASK_SOURCE, CHECKIN_SOURCE = "task", "checkin"
_CHUNK = 500


@dataclass(frozen=True)
class Obligation:
    source: str  # round code, "task" or "checkin"
    agency_id: int
    deadline: date | None
    opens: date | None = None
    round_id: int | None = None
    task_ids: tuple[int, ...] = ()  # open tasks; () for an agency-level round

    @property
    def key(self) -> str:
        """Names the obligation in idempotency keys and snoozes."""
        when = self.deadline.isoformat() if self.deadline else "-"
        return f"{self.source}:{self.agency_id}:{when}"


def start_of(day: date | None, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` as aware UTC (reports are stored in UTC)."""
    if day is None or day == date.min:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _pending(
    session: Session,
    task_ids: Sequence[int],
    roles: Iterable[str],
    agency_ids: Collection[int] | None,
    *reported: ColumnElement[bool],
) -> dict[int, tuple[int, ...]]:
    """Active agencies' assignments of `task_ids` in `roles` with no report matching `reported`.

    Agency → its task ids, ascending. Set-based and join-free on purpose (a nationwide round
    reads ~175,000 lead assignments): task ids are passed as a list, inactive agencies (a
    handful) are dropped afterwards, and the anti-join is the form each engine runs best —
    PostgreSQL a hash anti-join on NOT EXISTS, SQLite a lookup in the matching report pairs
    materialised once (an automatic index) instead of one correlated search per assignment.
    """
    if not task_ids:
        return {}
    query = (
        select(Assignment.agency_id, _task_list(session))
        .where(col(Assignment.task_id).in_(list(task_ids)), col(Assignment.role).in_(list(roles)))
        .group_by(Assignment.agency_id)
        .order_by(Assignment.agency_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.where(
            ~exists().where(
                StatusReport.agency_id == Assignment.agency_id,
                StatusReport.task_id == Assignment.task_id,
                *reported,
            )
        )
    else:
        done = (
            select(StatusReport.agency_id, StatusReport.task_id)
            .where(*reported)
            .group_by(StatusReport.agency_id, StatusReport.task_id)
            .subquery("reported")
        )
        query = query.outerjoin(
            done,
            and_(done.c.agency_id == Assignment.agency_id, done.c.task_id == Assignment.task_id),
        ).where(done.c.agency_id.is_(None))
    if agency_ids is not None:
        query = query.where(col(Assignment.agency_id).in_(list(agency_ids)))
    inactive = set(
        session.connection().execute(select(Agency.id).where(Agency.active == False)).scalars()  # noqa: E712
    )
    return {
        agency: _ids(joined)
        for agency, joined in session.connection().execute(query)
        if agency not in inactive
    }


def _task_list(session: Session) -> ColumnElement[str]:
    """The task ids of a group as one comma-separated string (thousands of rows → one)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(cast(Assignment.task_id, String), ",")
    return func.group_concat(Assignment.task_id, ",")


def _ids(joined: str | None) -> tuple[int, ...]:
    """Task ids from a group's list, ascending (ids follow the plan's order as imported)."""
    return tuple(sorted(int(part) for part in (joined or "").split(",") if part))


def _active_agencies() -> ColumnElement[bool]:
    return Agency.active == True  # noqa: E712


def round_obligations(
    session: Session,
    rounds: Iterable[ReportingRound],
    today: date,
    tz: ZoneInfo,
    deadlines: Collection[date] | None = None,
    agency_ids: Collection[int] | None = None,
) -> list[Obligation]:
    """Unreported (agency[, task]) pairs of open rounds whose period deadline is in `deadlines`.

    `deadlines` None: every period around `today` that has opened (for digests, overdue lists
    and "not yet reported"); a recurring round's periods older than ~40 days drop out.
    """
    found: list[Obligation] = []
    for row in rounds:
        audience = Audience.from_json(row.audience)
        schedule = RoundSchedule(row.deadline, row.opens_on, row.recurrence)
        periods = schedule.periods_around(today) if row.recurrence else [schedule.period(0)]
        for period in periods:
            if deadlines is not None and period.deadline not in deadlines:
                continue
            if deadlines is None and period.opens > today:
                continue
            found.extend(_round_period(session, row, audience, period, tz, agency_ids))
    return found


def _round_period(
    session: Session,
    row: ReportingRound,
    audience: Audience,
    period: Period,
    tz: ZoneInfo,
    agency_ids: Collection[int] | None,
) -> list[Obligation]:
    since = start_of(period.opens, tz)
    report = aliased(StatusReport)
    # Any report in the period counts, whichever round the chat tagged it with: an agency in
    # two rounds at once (VPUBND) must not be reminded for a report it has sent.
    # a report a coordinator returned (core.review) must be redone: it does not count
    counts = and_(report.submitted_at >= since, report.review != RETURNED_REVIEW)
    if asks_document(row.asks):
        # only the document itself answers a round that asks for one (a returned one does not)
        return _documents_owed(session, row, audience, period, agency_ids)
    if audience.per_task:
        tasks = select(Task.id).where(Task.plan_id == row.plan_id)
        if not audience.all_tasks:
            tasks = tasks.where(col(Task.ref).in_(audience.tasks or ()))
        task_ids = list(session.connection().execute(tasks).scalars())
        pending = _pending(
            session,
            task_ids,
            audience.roles,
            agency_ids,
            StatusReport.submitted_at >= since,
            StatusReport.review != RETURNED_REVIEW,
        )
        return [
            Obligation(row.code, agency, period.deadline, period.opens, row.id, found)
            for agency, found in pending.items()
        ]
    conditions = []
    if audience.agencies:
        conditions.append(col(Agency.code).in_(audience.agencies))
    if audience.kinds:
        conditions.append(col(Agency.kind).in_(audience.kinds))
    query = select(Agency.id).where(
        or_(*conditions),
        _active_agencies(),
        ~exists().where(report.agency_id == Agency.id, counts),
    )
    if agency_ids is not None:
        query = query.where(col(Agency.id).in_(list(agency_ids)))
    return [
        Obligation(row.code, agency_id, period.deadline, period.opens, row.id)
        for agency_id in session.connection().execute(query.order_by(Agency.id)).scalars()
    ]


def _documents_owed(
    session: Session,
    row: ReportingRound,
    audience: Audience,
    period: Period,
    agency_ids: Collection[int] | None,
) -> list[Obligation]:
    asked = set(audience_agency_ids(session, row))
    if agency_ids is not None:
        asked &= set(agency_ids)
    if not asked:
        return []
    sent = set(
        session.connection()
        .execute(
            select(RoundSubmission.agency_id).where(
                RoundSubmission.round_id == row.id,
                RoundSubmission.period_deadline == period.deadline,
                RoundSubmission.is_latest == True,  # noqa: E712
                RoundSubmission.status != DocumentStatus.RETURNED.value,
            )
        )
        .scalars()
    )
    return [
        Obligation(row.code, agency_id, period.deadline, period.opens, row.id)
        for agency_id in sorted(asked - sent)
    ]


def task_obligations(
    session: Session,
    deadlines: Collection[date] | None,
    agency_ids: Collection[int] | None = None,
    plan_ids: Collection[int] | None = None,
) -> list[Obligation]:
    """Lead agencies whose task deadline is in `deadlines` and who have not reported it done.

    `deadlines` None: every dated task (for "open items" and "overdue" lists). An approved
    extension (storage.extensions) moves one agency's deadline: that pair is owed on its new
    date, not on the task's (so no reminder for the old date, a new ladder for the new one).
    """
    extended = approved_dates(session)
    tasks = select(Task.id, Task.due_date).where(
        col(Task.due_date).is_not(None), Task.rule_kind != RuleKind.RECURRING.value
    )
    if deadlines is not None:
        tasks = tasks.where(col(Task.due_date).in_(list(deadlines)))
    if plan_ids is not None:
        tasks = tasks.where(col(Task.plan_id).in_(list(plan_ids)))
    due_of: dict[int, date] = dict(session.connection().execute(tasks).all())  # type: ignore[arg-type]
    if not due_of and not extended:  # the usual case: no task deadline calls for a reminder today
        return []
    by_agency: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(list))
    pending = _pending(
        session,
        list(due_of),
        (AssignmentRole.LEAD.value,),
        agency_ids,
        StatusReport.is_latest == True,  # noqa: E712
        StatusReport.status == ReportStatus.DONE.value,
        StatusReport.review != RETURNED_REVIEW,  # a returned "done" is not done
    )
    for agency, task_ids in pending.items():
        for task_id in task_ids:
            moved = extended.get((task_id, agency))
            if moved is not None and moved > due_of[task_id]:
                continue  # owed on its extended date instead
            by_agency[agency][due_of[task_id]].append(task_id)
    for (task_id, agency), due in _extended_pending(
        session, extended, deadlines, agency_ids, plan_ids
    ):
        by_agency[agency][due].append(task_id)
    found: list[Obligation] = []
    for agency in sorted(by_agency):
        found += [
            Obligation(TASK_SOURCE, agency, due, None, None, tuple(sorted(ids)))
            for due, ids in sorted(by_agency[agency].items())
        ]
    return found


def _extended_pending(
    session: Session,
    extended: dict[tuple[int, int], date],
    deadlines: Collection[date] | None,
    agency_ids: Collection[int] | None,
    plan_ids: Collection[int] | None,
) -> list[tuple[tuple[int, int], date]]:
    """Extended lead pairs whose new date is in `deadlines` and that are not reported done."""
    wanted = {
        pair: new
        for pair, new in extended.items()
        if (deadlines is None or new in deadlines) and (agency_ids is None or pair[1] in agency_ids)
    }
    if not wanted:
        return []
    task_ids = sorted({t for t, _ in wanted})
    tasks = select(Task.id, Task.due_date).where(
        col(Task.id).in_(task_ids), Task.rule_kind != RuleKind.RECURRING.value
    )
    if plan_ids is not None:
        tasks = tasks.where(col(Task.plan_id).in_(list(plan_ids)))
    due_of = dict(session.connection().execute(tasks).all())
    pending = _pending(
        session,
        list(due_of),
        (AssignmentRole.LEAD.value,),
        sorted({a for _, a in wanted}),
        StatusReport.is_latest == True,  # noqa: E712
        StatusReport.status == ReportStatus.DONE.value,
    )
    found = []
    for agency, ids in pending.items():
        for task_id in ids:
            new = wanted.get((task_id, agency))
            base = due_of.get(task_id)
            if new is not None and (base is None or new > base):
                found.append(((task_id, agency), new))
    return found


def checkin_obligations(
    session: Session,
    since: datetime,
    agency_ids: Collection[int] | None = None,
    plan_ids: Collection[int] | None = None,
) -> list[Obligation]:
    """Lead agencies of recurring tasks with no report on them since `since`."""
    tasks = select(Task.id).where(Task.rule_kind == RuleKind.RECURRING.value)
    if plan_ids is not None:
        tasks = tasks.where(col(Task.plan_id).in_(list(plan_ids)))
    task_ids = list(session.connection().execute(tasks).scalars())
    if not task_ids:
        return []
    pending = _pending(
        session,
        task_ids,
        (AssignmentRole.LEAD.value,),
        agency_ids,
        StatusReport.submitted_at >= since,
    )
    return [
        Obligation(CHECKIN_SOURCE, agency, None, None, None, found)
        for agency, found in pending.items()
    ]


def still_open(
    session: Session, obligation: Obligation, tz: ZoneInfo, today: date
) -> tuple[int, ...] | None:
    """The tasks of `obligation` still unreported (() for an agency-level round), or None."""
    agencies = [obligation.agency_id]
    if obligation.round_id is not None:
        row = session.get(ReportingRound, obligation.round_id)
        if row is None or row.status != "open":
            return None
        period = Period(0, obligation.opens or date.min, obligation.deadline or row.deadline)
        found = _round_period(session, row, Audience.from_json(row.audience), period, tz, agencies)
    elif obligation.source == TASK_SOURCE:
        found = task_obligations(
            session, [obligation.deadline] if obligation.deadline else None, agencies
        )
    else:
        since = start_of(obligation.opens, tz)
        found = checkin_obligations(session, since, agencies)
    if not found:
        return None
    if not obligation.task_ids:
        return ()
    still = set(found[0].task_ids)
    remaining = tuple(t for t in obligation.task_ids if t in still)
    return remaining or None
