"""The round-document flow's storage port: which document rounds ask an agency, and saving
what it sends (`core.flows.round_document.DocumentStore`).

Saving is one transaction (the update's): the new `round_submission` version (the bytes move
from the flow's pending upload inside the database), the is_latest flip of the previous one,
and (by the flow) the audit row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import Session, select

from core.conversation import IncomingFile
from core.flows.round_document import (
    DocumentDraft,
    DocumentRefused,
    DocumentSaved,
    DocumentUpload,
    OwedRound,
)
from core.round_documents import DocumentStatus, RoundAsks
from core.rounds import RoundSchedule
from storage.chat.reports import SqlReportStore
from storage.scheduling.rounds import audience_agency_ids
from storage.tables.chat import PendingUpload
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Plan, ReportingRound


def document_rounds(session: Session, status: str | None = "open") -> list[ReportingRound]:
    query = select(ReportingRound).where(ReportingRound.asks == RoundAsks.DOCUMENT.value)
    if status is not None:
        query = query.where(ReportingRound.status == status)
    return list(session.exec(query.order_by(ReportingRound.deadline, ReportingRound.id)).all())


def latest_submission(
    session: Session, round_id: int, agency_id: int, period_deadline: Any
) -> RoundSubmission | None:
    return session.exec(
        select(RoundSubmission).where(
            RoundSubmission.round_id == round_id,
            RoundSubmission.agency_id == agency_id,
            RoundSubmission.period_deadline == period_deadline,
            RoundSubmission.is_latest == True,  # noqa: E712
        )
    ).first()


def status_on_send(session: Session, row: ReportingRound) -> str:
    """A new document waits for review (submitted) when the round's plan says "reports need
    review" (as a status report does, `core.review.status_on_submit`); otherwise it is
    accepted as it is sent. A round of no plan is reviewed."""
    needs = (
        session.exec(select(Plan.review_reports).where(Plan.id == row.plan_id)).first()
        if row.plan_id is not None
        else None
    )
    review = True if needs is None else bool(needs)
    return DocumentStatus.SUBMITTED.value if review else DocumentStatus.ACCEPTED.value


class SqlDocumentStore:
    """`core.flows.round_document.DocumentStore` on the update's session."""

    def __init__(self, session: Session, tz: ZoneInfo | None = None) -> None:
        self.session = session
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self._uploads = SqlReportStore(session, self.tz)

    def owed(self, agency_id: int, now: datetime) -> list[OwedRound]:
        today = now.astimezone(self.tz).date()
        found: list[OwedRound] = []
        for row in document_rounds(self.session):
            if row.opens_on is not None and row.opens_on > today:
                continue
            if agency_id not in audience_agency_ids(self.session, row):
                continue
            period = RoundSchedule(row.deadline, row.opens_on, row.recurrence).current(today)
            sent = latest_submission(self.session, row.id, agency_id, period.deadline)
            found.append(
                OwedRound(
                    row.id,
                    row.code,
                    row.title,
                    row.ask,
                    period.deadline,
                    sent.receipt if sent and sent.status != DocumentStatus.RETURNED else None,
                )
            )
        return found

    def keep_upload(self, ctx: Any, instance: str, file: IncomingFile) -> DocumentUpload:
        ref = self._uploads.keep_upload(ctx, instance, file)
        return DocumentUpload(ref.upload_id, ref.file_name, ref.size)

    def drop_uploads(self, instance: str) -> None:
        self._uploads.drop_uploads(instance)

    def save(self, draft: DocumentDraft, now: datetime, instance: str) -> DocumentSaved:
        row = self.session.get(ReportingRound, draft.round_id)
        if row is None or row.status != "open" or row.asks != RoundAsks.DOCUMENT.value:
            raise DocumentRefused("round_gone")
        upload = self.session.exec(
            select(PendingUpload).where(
                PendingUpload.id == draft.upload_id, PendingUpload.instance == instance
            )
        ).first()
        if upload is None:
            raise DocumentRefused("upload_gone")
        today = now.astimezone(self.tz).date()
        period = RoundSchedule(row.deadline, row.opens_on, row.recurrence).current(today)
        same = (
            RoundSubmission.round_id == row.id,
            RoundSubmission.agency_id == draft.agency_id,
            RoundSubmission.period_deadline == period.deadline,
        )
        previous = self.session.exec(select(func.max(RoundSubmission.version)).where(*same)).one()
        self.session.execute(
            update(RoundSubmission)
            .where(*same, RoundSubmission.is_latest == True)  # noqa: E712
            .values(is_latest=False)
        )
        submission = RoundSubmission(
            receipt=f"tmp-{uuid.uuid4().hex[:24]}",  # the real one needs the row's id
            round_id=row.id,
            agency_id=draft.agency_id,
            period_deadline=period.deadline,
            reporter_id=draft.reporter_id,
            version=(previous or 0) + 1,
            is_latest=True,
            number=draft.number,
            issued_on=draft.issued_on,
            note=draft.note,
            file_name=upload.file_name,
            mime_type=upload.mime_type,
            size=upload.size,
            sha256=upload.sha256,
            content=upload.content,
            status=status_on_send(self.session, row),
            submitted_at=now,
        )
        self.session.add(submission)
        self.session.flush()
        submission.receipt = f"VB-{today.year}-{submission.id:06d}"
        self.session.add(submission)
        self.drop_uploads(instance)
        self.session.flush()
        return DocumentSaved(
            receipt=submission.receipt,
            version=submission.version,
            round_title=row.title,
            deadline=period.deadline,
            late=today > period.deadline,
            file_name=submission.file_name,
        )


def set_submission_status(
    session: Session,
    submission_id: int,
    status: DocumentStatus,
    by: int | None,
    now: datetime,
    reason: str = "",
    expect: DocumentStatus | None = None,
) -> RoundSubmission | None:
    """For the review feature (/duyet): mark a submission accepted or returned.

    With `expect`, only the latest version still in that status changes (a conditional
    UPDATE: two coordinators deciding at once, or a press on an old message, change it once);
    None then says it was decided already. Without it the row is set whatever it was."""
    where = [RoundSubmission.id == submission_id]
    if expect is not None:
        where += [RoundSubmission.status == expect.value, RoundSubmission.is_latest == True]  # noqa: E712
    done = session.execute(
        update(RoundSubmission)
        .where(*where)
        .values(status=status.value, status_reason=reason, status_by=by, status_at=now)
    )
    if getattr(done, "rowcount", 0) != 1:
        if expect is not None:
            return None
        raise LookupError(f"round_submission {submission_id}")
    session.expire_all()
    return session.get(RoundSubmission, submission_id)
