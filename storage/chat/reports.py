"""The report flow's storage port: an agency's tasks, pending evidence, and saving a report.

Saving is one transaction (the update's): the new status_report version, the is_latest flip of
the previous one, evidence rows moved from the flow's pending uploads, and (by the caller) the
audit row and the processed-update record.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlmodel import Session

from core.conversation import IncomingFile
from core.flows.report import ReportDraft, Saved, TaskItem, UploadRef
from core.review import status_on_submit
from core.round_documents import covers_tasks
from core.rounds import Audience, AudienceError
from storage.reports.evaluation_store import refresh_assignment
from storage.review.store import plan_needs_review
from storage.tables.chat import PendingUpload
from storage.tables.shared import (
    Agency,
    Area,
    Assignment,
    EvidenceFile,
    ReportingRound,
    StatusReport,
    Task,
)

_TASKS = (
    select(
        Task.id,
        Task.ref,
        Task.title,
        Task.due_date,
        Task.schedule,
        Task.expected_output,
        Area.code.label("area_code"),
        Area.title.label("area_title"),
        Assignment.role,
    )
    .join(Assignment, Assignment.task_id == Task.id)
    .join(Area, Area.id == Task.area_id)
    .where(Assignment.agency_id == bindparam("agency_id"))
    .order_by(Task.plan_id, Area.position, Task.position, Assignment.role)
)
_ONE_TASK = _TASKS.where(Task.id == bindparam("task_id"))
_LATEST = select(
    StatusReport.task_id,
    StatusReport.status,
    StatusReport.submitted_at,
    StatusReport.version,
    StatusReport.receipt,
).where(StatusReport.agency_id == bindparam("agency_id"), StatusReport.is_latest)
_LATEST_ONE = _LATEST.where(StatusReport.task_id == bindparam("task_id"))
_REPORTS = StatusReport.__table__
_TASK_FACTS = select(Task.id, Task.plan_id, Task.ref).where(Task.id == bindparam("task_id"))
_AGENCY_FACTS = select(Agency.id, Agency.code, Agency.kind).where(
    Agency.id == bindparam("agency_id")
)
_OPEN_ROUNDS = (
    select(
        ReportingRound.id,
        ReportingRound.code,
        ReportingRound.title,
        ReportingRound.plan_id,
        ReportingRound.opens_on,
        ReportingRound.audience,
        ReportingRound.deadline,
        ReportingRound.asks,
    )
    .where(ReportingRound.status == "open")
    .order_by(ReportingRound.deadline, ReportingRound.id)
)


def _lead_first(role: str) -> int:
    return 0 if role == "lead" else 1


class SqlReportStore:
    """`core.flows.report.ReportStore` on the update's session."""

    def __init__(self, session: Session, tz: ZoneInfo | None = None) -> None:
        self.session = session
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self._tasks: dict[int, list[TaskItem]] = {}

    def tasks_for(self, agency_id: int) -> list[TaskItem]:
        if agency_id not in self._tasks:
            self._tasks[agency_id] = self._load(agency_id)
        return self._tasks[agency_id]

    def task(self, agency_id: int, task_id: int) -> TaskItem | None:
        items = self._load(agency_id, task_id)
        return items[0] if items else None

    def _load(self, agency_id: int, task_id: int | None = None) -> list[TaskItem]:
        params = {"agency_id": agency_id, "task_id": task_id}
        if task_id is None:
            rows = self.session.execute(_TASKS, params).all()
            reports = self.session.execute(_LATEST, params).all()
        else:
            rows = self.session.execute(_ONE_TASK, params).all()
            reports = self.session.execute(_LATEST_ONE, params).all()
        latest: dict[int, Any] = {}
        report: Any  # a row of _LATEST here, an entry of `latest` below
        for report in reports:
            known = latest.get(report.task_id)
            if known is None or report.submitted_at > known.submitted_at:
                latest[report.task_id] = report
        items: dict[int, dict[str, Any]] = {}
        for row in rows:
            item = items.get(row.id)
            if item is not None:
                item["roles"].append(row.role)
                continue
            report = latest.get(row.id)
            items[row.id] = {
                "task_id": row.id,
                "ref": row.ref,
                "title": row.title,
                "area_code": row.area_code,
                "area_title": row.area_title,
                "roles": [row.role],
                "due_date": row.due_date,
                "schedule": row.schedule,
                "expected_output": row.expected_output,
                "latest_status": report.status if report else None,
                "latest_at": report.submitted_at if report else None,
                "latest_version": report.version if report else None,
                "latest_receipt": report.receipt if report else None,
            }
        return [
            TaskItem(**{**item, "roles": tuple(sorted(item["roles"], key=_lead_first))})
            for item in items.values()
        ]

    def keep_upload(self, ctx: Any, instance: str, file: IncomingFile) -> UploadRef:
        assert file.content is not None
        digest = hashlib.sha256(file.content).hexdigest()
        known = self.session.execute(
            select(PendingUpload).where(
                PendingUpload.instance == instance, PendingUpload.sha256 == digest
            )
        ).scalar_one_or_none()
        if known is None:
            request = ctx.request
            known = PendingUpload(
                channel=request.channel,
                chat_id=request.chat_id,
                user_id=request.user_id,
                instance=instance,
                file_name=file.file_name[:255],
                mime_type=(file.mime_type or "application/octet-stream")[:100],
                size=len(file.content),
                sha256=digest,
                content=file.content,
                created_at=ctx.now,
            )
            self.session.add(known)
            self.session.flush()
        assert known.id is not None
        return UploadRef(known.id, known.file_name, known.size)

    def drop_uploads(self, instance: str) -> None:
        self.session.execute(delete(PendingUpload).where(PendingUpload.instance == instance))

    def open_round(self, task: Any, agency: Any, now: datetime) -> Any:
        """The open round that covers this task for this agency: a per-task round naming the
        task (in one of the agency's roles on it), or an agency-level round asking task
        statuses of this agency. A round asking for a document covers no task.

        Of several, the next one due (so a report in December goes to the annual report, not
        to a quarter-III round nobody closed); with none due any more, the one due last.
        `task` needs id, plan_id, ref; `agency` id, code, kind (rows or table objects).
        """
        today = now.astimezone(self.tz).date()
        rounds = self.session.execute(_OPEN_ROUNDS).all()
        roles: list[str] | None = None
        covering: list[Any] = []
        for candidate in rounds:
            if candidate.plan_id is not None and candidate.plan_id != task.plan_id:
                continue
            if candidate.opens_on is not None and candidate.opens_on > today:
                continue
            if not covers_tasks(candidate.asks):
                continue
            try:
                audience = Audience.from_json(candidate.audience)
            except (AudienceError, ValueError, json.JSONDecodeError):
                continue
            if audience.per_task:
                if not audience.all_tasks and task.ref not in (audience.tasks or ()):
                    continue
                if roles is None:
                    roles = list(
                        self.session.execute(
                            select(Assignment.role).where(
                                Assignment.task_id == task.id, Assignment.agency_id == agency.id
                            )
                        ).scalars()
                    )
                if any(role in audience.roles for role in roles):
                    covering.append(candidate)
            elif agency.code in audience.agencies or agency.kind in audience.kinds:
                covering.append(candidate)
        upcoming = [c for c in covering if c.deadline >= today]  # ordered by deadline
        if upcoming:
            return upcoming[0]
        return covering[-1] if covering else None

    def save(self, draft: ReportDraft, now: datetime, instance: str) -> Saved:
        task = self.session.execute(_TASK_FACTS, {"task_id": draft.task_id}).one()
        agency = self.session.execute(_AGENCY_FACTS, {"agency_id": draft.agency_id}).one()
        round_ = self.open_round(task, agency, now)
        round_id = round_.id if round_ else None
        same = (
            StatusReport.task_id == draft.task_id,
            StatusReport.agency_id == draft.agency_id,
            StatusReport.round_id == round_id
            if round_id is not None
            else StatusReport.round_id.is_(None),
        )
        previous = self.session.execute(
            select(func.max(StatusReport.version)).where(*same)
        ).scalar_one()
        connection = self.session.connection()
        connection.execute(
            update(_REPORTS).where(*same, StatusReport.is_latest).values(is_latest=False)
        )
        version = (previous or 0) + 1
        review = status_on_submit(plan_needs_review(self.session, draft.task_id))
        inserted = connection.execute(
            insert(_REPORTS),
            {
                "receipt": f"tmp-{uuid.uuid4().hex[:24]}",
                "task_id": draft.task_id,
                "agency_id": draft.agency_id,
                "round_id": round_id,
                "reporter_id": draft.reporter_id,
                "version": version,
                "is_latest": True,
                "status": draft.status.value,
                "result": draft.result,
                "figure": draft.figure,
                "difficulties": draft.difficulties,
                "submitted_at": now,
                "review": review.value,
            },
        )
        report_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        receipt = f"BC-{now.astimezone(self.tz).year}-{report_id:06d}"
        connection.execute(
            update(_REPORTS).where(_REPORTS.c.id == report_id).values(receipt=receipt)
        )
        # the dashboard's stored evaluation of this one pair moves with the report, in its
        # transaction (a few milliseconds: storage/reports/evaluation_store.py)
        refresh_assignment(self.session, draft.task_id, draft.agency_id, self.tz, now)
        files = 0
        if draft.upload_ids:
            # INSERT … SELECT: the bytes move inside the database, never through Python again
            uploads = select(
                literal(report_id),
                PendingUpload.file_name,
                PendingUpload.mime_type,
                PendingUpload.size,
                PendingUpload.sha256,
                PendingUpload.content,
                PendingUpload.created_at,
            ).where(
                PendingUpload.instance == instance,
                PendingUpload.id.in_(draft.upload_ids),
            )
            columns = ["report_id", "file_name", "mime_type", "size", "sha256", "content"]
            moved = self.session.execute(
                insert(EvidenceFile)
                .from_select([*columns, "uploaded_at"], uploads)
                .returning(EvidenceFile.id)
            )
            files = len(moved.all())
        if draft.evidence_ids:
            # «Báo cáo lại» kept the returned version's files: copied, only from this agency's
            # own reports on this task
            kept = (
                select(
                    literal(report_id),
                    EvidenceFile.file_name,
                    EvidenceFile.mime_type,
                    EvidenceFile.size,
                    EvidenceFile.sha256,
                    EvidenceFile.content,
                    EvidenceFile.uploaded_at,
                )
                .join(StatusReport, StatusReport.id == EvidenceFile.report_id)
                .where(
                    EvidenceFile.id.in_(draft.evidence_ids),
                    StatusReport.task_id == draft.task_id,
                    StatusReport.agency_id == draft.agency_id,
                )
            )
            columns = ["report_id", "file_name", "mime_type", "size", "sha256", "content"]
            copied = self.session.execute(
                insert(EvidenceFile)
                .from_select([*columns, "uploaded_at"], kept)
                .returning(EvidenceFile.id)
            )
            files += len(copied.all())
        self.drop_uploads(instance)
        return Saved(
            report_id=report_id,
            receipt=receipt,
            version=version,
            round_code=round_.code if round_ else None,
            round_title=round_.title if round_ else None,
            files=files,
            round_deadline=round_.deadline if round_ else None,
            late=round_ is not None and now.astimezone(self.tz).date() > round_.deadline,
            review=review.value,
        )
