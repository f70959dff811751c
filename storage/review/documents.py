"""Round documents waiting for review (`/duyet`), read as a reviewer sees them.

A round that asks for a document (`core.round_documents`) gets one submission per agency and
period; the latest version still *submitted* waits for a coordinator's Đạt / Trả lại, which
`storage.chat.round_documents.set_submission_status` records (conditionally, once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlmodel import Session

from core.round_documents import DocumentStatus
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Agency, Contact, ReportingRound

S = RoundSubmission


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SubmissionView:
    """One submission as the reviewer (and the focal point told of the decision) reads it."""

    id: int
    receipt: str
    round_id: int
    round_code: str
    round_title: str
    period_deadline: date
    agency_id: int
    agency_code: str
    agency_name: str
    version: int
    number: str
    issued_on: date
    note: str
    file_name: str
    size: int
    submitted_at: datetime  # aware UTC
    reporter_id: int | None
    reporter_name: str
    status: str  # DocumentStatus
    status_reason: str
    is_latest: bool
    mime_type: str = "application/octet-stream"


def waiting_submissions(session: Session, limit: int = 50) -> list[tuple[int, datetime]]:
    """(submission id, sent at) of the latest versions still waiting for review, oldest first."""
    rows = session.execute(
        select(S.id, S.submitted_at)
        .where(S.status == DocumentStatus.SUBMITTED.value, S.is_latest == True)  # noqa: E712
        .order_by(S.submitted_at, S.id)
        .limit(limit)
    ).all()
    return [(int(r[0]), _utc(r[1])) for r in rows]


def load_submission(session: Session, submission_id: int) -> SubmissionView | None:
    row = session.execute(
        select(
            S.id,
            S.receipt,
            S.round_id,
            ReportingRound.code,
            ReportingRound.title,
            S.period_deadline,
            S.agency_id,
            Agency.code,
            Agency.name,
            S.version,
            S.number,
            S.issued_on,
            S.note,
            S.file_name,
            S.size,
            S.submitted_at,
            S.reporter_id,
            Contact.display_name,
            S.status,
            S.status_reason,
            S.is_latest,
            S.mime_type,
        )
        .join(ReportingRound, ReportingRound.id == S.round_id)
        .join(Agency, Agency.id == S.agency_id)
        .outerjoin(Contact, Contact.id == S.reporter_id)
        .where(S.id == submission_id)
    ).first()
    if row is None:
        return None
    values = list(row)
    values[15] = _utc(values[15])
    values[17] = values[17] or ""
    values[19] = values[19] or ""
    return SubmissionView(*values)
