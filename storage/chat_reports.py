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

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from core.conversation import IncomingFile
from core.flows.report import ReportDraft, Saved, TaskItem, UploadRef
from core.rounds import Audience, AudienceError
from storage.tables import (
    Agency,
    Area,
    Assignment,
    EvidenceFile,
    ReportingRound,
    StatusReport,
    Task,
)
from storage.tables_chat import PendingUpload


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
        query = (
            select(Task, Area.code, Area.title, Assignment.role)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Area, Area.id == Task.area_id)
            .where(Assignment.agency_id == agency_id)
            .order_by(Task.plan_id, Area.position, Task.position, Assignment.role)
        )
        if task_id is not None:
            query = query.where(Task.id == task_id)
        rows = self.session.execute(query).all()
        latest = self._latest(agency_id, task_id)
        items: dict[int, TaskItem] = {}
        roles: dict[int, list[str]] = {}
        for task, area_code, area_title, role in rows:
            assert task.id is not None
            roles.setdefault(task.id, []).append(role)
            if task.id in items:
                continue
            report = latest.get(task.id)
            items[task.id] = TaskItem(
                task_id=task.id,
                ref=task.ref,
                title=task.title,
                area_code=area_code,
                area_title=area_title,
                roles=(),
                due_date=task.due_date,
                schedule=task.schedule,
                expected_output=task.expected_output,
                latest_status=report.status if report else None,
                latest_at=report.submitted_at if report else None,
                latest_version=report.version if report else None,
                latest_receipt=report.receipt if report else None,
            )
        return [
            TaskItem(**{**item.__dict__, "roles": tuple(sorted(roles[task_id], key=_lead_first))})
            for task_id, item in items.items()
        ]

    def _latest(self, agency_id: int, task_id: int | None) -> dict[int, StatusReport]:
        query = select(StatusReport).where(
            StatusReport.agency_id == agency_id, StatusReport.is_latest
        )
        if task_id is not None:
            query = query.where(StatusReport.task_id == task_id)
        latest: dict[int, StatusReport] = {}
        for report in self.session.execute(query).scalars():
            known = latest.get(report.task_id)
            if known is None or report.submitted_at > known.submitted_at:
                latest[report.task_id] = report
        return latest

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

    def open_round(self, task: Task, agency: Agency, now: datetime) -> ReportingRound | None:
        """The open round whose audience includes this agency (or this agency's task)."""
        today = now.astimezone(self.tz).date()
        rounds = self.session.execute(
            select(ReportingRound)
            .where(ReportingRound.status == "open")
            .order_by(ReportingRound.deadline, ReportingRound.id)
        ).scalars()
        roles: list[str] | None = None
        for candidate in rounds:
            if candidate.plan_id is not None and candidate.plan_id != task.plan_id:
                continue
            if candidate.opens_on is not None and candidate.opens_on > today:
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
                    return candidate
            elif agency.code in audience.agencies or agency.kind in audience.kinds:
                return candidate
        return None

    def save(self, draft: ReportDraft, now: datetime, instance: str) -> Saved:
        task = self.session.get(Task, draft.task_id)
        agency = self.session.get(Agency, draft.agency_id)
        assert task is not None and agency is not None
        round_ = self.open_round(task, agency, now)
        round_id = round_.id if round_ else None
        same = (
            StatusReport.task_id == draft.task_id,
            StatusReport.agency_id == draft.agency_id,
            StatusReport.round_id == round_id
            if round_id is not None
            else StatusReport.round_id.is_(None),  # type: ignore[union-attr]
        )
        previous = self.session.execute(
            select(func.max(StatusReport.version)).where(*same)
        ).scalar_one()
        self.session.execute(
            update(StatusReport).where(*same, StatusReport.is_latest).values(is_latest=False)
        )
        report = StatusReport(
            receipt=f"tmp-{uuid.uuid4().hex[:24]}",
            task_id=draft.task_id,
            agency_id=draft.agency_id,
            round_id=round_id,
            reporter_id=draft.reporter_id,
            version=(previous or 0) + 1,
            is_latest=True,
            status=draft.status.value,
            result=draft.result,
            figure=draft.figure,
            difficulties=draft.difficulties,
            submitted_at=now,
        )
        self.session.add(report)
        self.session.flush()
        assert report.id is not None
        report.receipt = f"BC-{now.astimezone(self.tz).year}-{report.id:06d}"
        files = 0
        if draft.upload_ids:
            uploads = self.session.execute(
                select(PendingUpload)
                .where(PendingUpload.instance == instance, PendingUpload.id.in_(draft.upload_ids))  # type: ignore[union-attr]
                .order_by(PendingUpload.id)
            ).scalars()
            for upload in uploads:
                self.session.add(
                    EvidenceFile(
                        report_id=report.id,
                        file_name=upload.file_name,
                        mime_type=upload.mime_type,
                        size=upload.size,
                        sha256=upload.sha256,
                        content=upload.content,
                        uploaded_at=upload.created_at,
                    )
                )
                files += 1
        self.drop_uploads(instance)
        self.session.flush()
        return Saved(
            report_id=report.id,
            receipt=report.receipt,
            version=report.version,
            round_code=round_.code if round_ else None,
            round_title=round_.title if round_ else None,
            files=files,
        )
