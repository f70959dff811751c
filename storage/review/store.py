"""Reports waiting for review and difficulties waiting for an answer, and recording both.

Decisions are conditional updates (`… WHERE review = 'pending'`, `… WHERE answer = ''`): two
coordinators deciding the same report at once, or a press on an old message, change it once;
the second is told it was already decided. The rules themselves are core's (`core.review`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlmodel import Session

from core.model import ReportStatus, UserRole
from core.review import ACCEPTED, PENDING, RETURNED, ReviewStatus
from storage.tables.shared import (
    Agency,
    Contact,
    EvidenceFile,
    Plan,
    ReportingRound,
    StatusReport,
    Task,
)

_REPORTS = StatusReport.__table__


@dataclass(frozen=True)
class EvidenceRef:
    id: int
    file_name: str
    size: int


@dataclass(frozen=True)
class ReportView:
    """One report as a reviewer (or the returned focal point) reads it."""

    id: int
    receipt: str
    task_id: int
    task_ref: str
    task_title: str
    due_date: object  # date | None
    agency_id: int
    agency_code: str
    agency_name: str
    round_title: str | None
    round_deadline: object  # date | None
    version: int
    status: str
    result: str
    figure: str | None
    difficulties: str
    submitted_at: datetime
    reporter_id: int | None
    reporter_name: str
    review: str
    review_reason: str
    reviewed_at: datetime | None
    answer: str
    answered_at: datetime | None
    is_latest: bool
    evidence: tuple[EvidenceRef, ...] = ()


def _difficulty_clause() -> ColumnElement[bool]:
    return or_(
        StatusReport.status == ReportStatus.BLOCKED.value,
        StatusReport.difficulties != "",
    )


def waiting_reviews(session: Session, limit: int = 50) -> list[tuple[int, datetime]]:
    """(report id, submitted at) of the latest versions still chờ duyệt, oldest first."""
    rows = session.execute(
        select(StatusReport.id, StatusReport.submitted_at)
        .where(StatusReport.review == PENDING.value, StatusReport.is_latest)
        .order_by(StatusReport.submitted_at, StatusReport.id)
        .limit(limit)
    ).all()
    return [(int(r.id), r.submitted_at) for r in rows]


def waiting_answers(
    session: Session, limit: int = 50, submitted_before: datetime | None = None
) -> list[tuple[int, datetime]]:
    """(report id, submitted at) of latest versions whose difficulties have no answer yet."""
    query = select(StatusReport.id, StatusReport.submitted_at).where(
        StatusReport.is_latest, StatusReport.answer == "", _difficulty_clause()
    )
    if submitted_before is not None:
        query = query.where(StatusReport.submitted_at < submitted_before)
    rows = session.execute(
        query.order_by(StatusReport.submitted_at, StatusReport.id).limit(limit)
    ).all()
    return [(int(r.id), r.submitted_at) for r in rows]


def load(session: Session, report_id: int) -> ReportView | None:
    row = session.execute(
        select(
            StatusReport,
            Task.ref,
            Task.title,
            Task.due_date,
            Agency.code,
            Agency.name,
            ReportingRound.title,
            ReportingRound.deadline,
            Contact.display_name,
        )
        .join(Task, Task.id == StatusReport.task_id)
        .join(Agency, Agency.id == StatusReport.agency_id)
        .outerjoin(ReportingRound, ReportingRound.id == StatusReport.round_id)
        .outerjoin(Contact, Contact.id == StatusReport.reporter_id)
        .where(StatusReport.id == report_id)
    ).first()
    if row is None:
        return None
    report: StatusReport = row[0]
    evidence = tuple(
        EvidenceRef(int(e.id), e.file_name, int(e.size))
        for e in session.execute(
            select(EvidenceFile.id, EvidenceFile.file_name, EvidenceFile.size)
            .where(EvidenceFile.report_id == report_id)
            .order_by(EvidenceFile.id)
        )
    )
    assert report.id is not None
    return ReportView(
        id=report.id,
        receipt=report.receipt,
        task_id=report.task_id,
        task_ref=row[1],
        task_title=row[2],
        due_date=row[3],
        agency_id=report.agency_id,
        agency_code=row[4],
        agency_name=row[5],
        round_title=row[6],
        round_deadline=row[7],
        version=report.version,
        status=report.status,
        result=report.result,
        figure=report.figure,
        difficulties=report.difficulties,
        submitted_at=report.submitted_at,
        reporter_id=report.reporter_id,
        reporter_name=row[8] or "",
        review=report.review,
        review_reason=report.review_reason,
        reviewed_at=report.reviewed_at,
        answer=report.answer,
        answered_at=report.answered_at,
        is_latest=report.is_latest,
        evidence=evidence,
    )


def set_review(
    session: Session,
    report_id: int,
    status: ReviewStatus,
    reason: str,
    by: int | None,
    now: datetime,
) -> bool:
    """Mark a pending latest report accepted or returned; False if it no longer waits."""
    if status not in (ACCEPTED, RETURNED):
        raise ValueError(f"not a decision: {status}")
    done = session.connection().execute(
        update(_REPORTS)
        .where(
            _REPORTS.c.id == report_id,
            _REPORTS.c.review == PENDING.value,
            _REPORTS.c.is_latest.is_(True),
        )
        .values(review=status.value, review_reason=reason, reviewed_by=by, reviewed_at=now)
    )
    return done.rowcount == 1


def latest_id(session: Session, task_id: int, agency_id: int) -> int | None:
    """The newest report of `agency_id` on `task_id` (a «Báo cáo lại» pressed after the agency
    already sent a newer one starts from that one, not from the returned version)."""
    found = session.connection().execute(
        select(_REPORTS.c.id).where(
            _REPORTS.c.task_id == task_id,
            _REPORTS.c.agency_id == agency_id,
            _REPORTS.c.is_latest.is_(True),
        )
    ).scalar()
    return None if found is None else int(found)


def set_answer(
    session: Session, report_id: int, answer: str, by: int | None, now: datetime
) -> bool:
    """Store the answer to a report's difficulties; False if it was answered already."""
    done = session.connection().execute(
        update(_REPORTS)
        .where(_REPORTS.c.id == report_id, _REPORTS.c.answer == "")
        .values(answer=answer, answered_by=by, answered_at=now)
    )
    return done.rowcount == 1


def plan_needs_review(session: Session, task_id: int) -> bool:
    """The plan's "reports need review" setting, for a report on `task_id`."""
    found = session.execute(
        select(Plan.review_reports).join(Task, Task.plan_id == Plan.id).where(Task.id == task_id)
    ).scalar_one_or_none()
    return True if found is None else bool(found)


def set_plan_review(session: Session, plan_code: str, on: bool) -> bool:
    plan = session.execute(select(Plan).where(Plan.code == plan_code)).scalar_one_or_none()
    if plan is None:
        return False
    plan.review_reports = on
    session.add(plan)
    session.flush()
    return True


def focal_recipients(session: Session, report: ReportView) -> list[Contact]:
    """Who is told of a decision: the focal point who filed it, while still a focal point of
    that agency; otherwise every active focal point of the agency."""
    return focal_recipients_of(session, report.agency_id, report.reporter_id)


def focal_recipients_of(session: Session, agency_id: int, reporter_id: int | None) -> list[Contact]:
    """`focal_recipients` for anything an agency sent (a report, a round's document)."""
    focal = and_(
        Contact.role == UserRole.FOCAL.value,
        Contact.agency_id == agency_id,
        Contact.active.is_(True),
    )
    if reporter_id is not None:
        reporter = session.execute(
            select(Contact).where(focal, Contact.id == reporter_id)
        ).scalar_one_or_none()
        if reporter is not None:
            return [reporter]
    return list(session.execute(select(Contact).where(focal).order_by(Contact.id)).scalars())


def pending_for_agency(session: Session, agency_id: int) -> list[int]:
    """Ids of an agency's latest reports still chờ duyệt (the dashboard's agency page)."""
    return [
        int(i)
        for i in session.execute(
            select(StatusReport.id)
            .where(
                StatusReport.agency_id == agency_id,
                StatusReport.is_latest,
                StatusReport.review == PENDING.value,
            )
            .order_by(StatusReport.submitted_at)
        ).scalars()
    ]


@dataclass(frozen=True)
class WaitingDifficulty:
    report_id: int
    receipt: str
    agency: str
    task_ref: str
    difficulties: str
    submitted_at: datetime


def waiting_difficulties(session: Session, limit: int = 200) -> list[WaitingDifficulty]:
    """Difficulties still without an answer, oldest first, with what a digest line names."""
    rows = session.execute(
        select(
            StatusReport.id,
            StatusReport.receipt,
            Agency.name,
            Task.ref,
            StatusReport.difficulties,
            StatusReport.submitted_at,
        )
        .join(Task, Task.id == StatusReport.task_id)
        .join(Agency, Agency.id == StatusReport.agency_id)
        .where(StatusReport.is_latest, StatusReport.answer == "", _difficulty_clause())
        .order_by(StatusReport.submitted_at, StatusReport.id)
        .limit(limit)
    ).all()
    return [WaitingDifficulty(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]
