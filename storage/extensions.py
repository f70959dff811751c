"""Extension requests in the database: the `core.extensions.ExtensionStore` port, and the
approved extensions every evaluation and the reminder sweep read.

An approved request moves one (task, agency) deadline; the latest approved request of a pair
wins (`approved_dates`). Nothing here renders or sends: the decision's messages are written
by `messages.extensions`, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlmodel import Session

from core.extensions import (
    Decision,
    ExtensionDraft,
    ExtensionRefused,
    ExtensionRequestInfo,
    ExtensionStatus,
    ExtensionTask,
)
from core.model import ReportStatus
from core.report_model import ExtensionInfo
from storage.tables.extensions import ExtensionRequest
from storage.tables.shared import Agency, Assignment, Contact, StatusReport, Task

R = ExtensionRequest
APPROVED = ExtensionStatus.APPROVED.value
PENDING = ExtensionStatus.PENDING.value
_CHUNK = 500


def approved(
    session: Session,
    task_ids: Collection[int] | None = None,
    agency_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], ExtensionInfo]:
    """The approved extension of each pair (the latest decided one), optionally narrowed.

    Extensions are few (a handful per agency at most), so one query reads them all and the
    narrowing is done here rather than with huge IN lists.
    """
    decider = select(Contact.id, Contact.display_name).subquery()
    rows = session.connection().execute(
        select(
            R.task_id,
            R.agency_id,
            R.original_date,
            R.new_date,
            decider.c.display_name,
            R.decided_at,
            R.reason,
            R.id,
        )
        .outerjoin(decider, decider.c.id == R.decided_by)
        .where(R.status == APPROVED)
        .order_by(R.decided_at, R.id)
    )
    found: dict[tuple[int, int], ExtensionInfo] = {}
    tasks = set(task_ids) if task_ids is not None else None
    agencies = set(agency_ids) if agency_ids is not None else None
    row: Any
    for row in rows:
        task_id, agency_id, original, new_date, by, at, reason = row[:7]
        if tasks is not None and task_id not in tasks:
            continue
        if agencies is not None and agency_id not in agencies:
            continue
        found[(task_id, agency_id)] = ExtensionInfo(
            task_id, agency_id, original, new_date, by or "", _aware(at), reason
        )
    return found


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def approved_dates(session: Session) -> dict[tuple[int, int], date]:
    """(task, agency) → its extended deadline: what the reminder sweep reads each run."""
    return {pair: info.new_date for pair, info in approved(session).items()}


class SqlExtensionStore:
    """`core.extensions.ExtensionStore` on one update's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- asking
    def _tasks(self, agency_id: int, task_id: int | None) -> list[ExtensionTask]:
        query = (
            select(Task.id, Task.ref, Task.title, Task.due_date)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(Assignment.agency_id == agency_id)
            .order_by(Task.plan_id, Task.position)
        )
        if task_id is not None:
            query = query.where(Task.id == task_id)
        rows = self.session.connection().execute(query).all()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        done = set(
            self.session.connection()
            .execute(
                select(StatusReport.task_id).where(
                    StatusReport.agency_id == agency_id,
                    StatusReport.is_latest == True,  # noqa: E712
                    StatusReport.status == ReportStatus.DONE.value,
                    StatusReport.task_id.in_(ids),
                )
            )
            .scalars()
        )
        pending = set(
            self.session.connection()
            .execute(
                select(R.task_id).where(
                    R.agency_id == agency_id, R.status == PENDING, R.task_id.in_(ids)
                )
            )
            .scalars()
        )
        extended = approved(self.session, ids, [agency_id])
        items: list[ExtensionTask] = []
        seen: set[int] = set()
        for task_id_, ref, title, due in rows:
            if task_id_ in seen or task_id_ in done:
                continue
            seen.add(task_id_)
            extension = extended.get((task_id_, agency_id))
            deadline = max(due, extension.new_date) if due and extension else due
            if extension is not None and deadline is None:
                deadline = extension.new_date
            if deadline is None:
                continue  # no date to move: recurring or not yet dated
            items.append(ExtensionTask(task_id_, ref, title, deadline, task_id_ in pending))
        return items

    def tasks_for(self, agency_id: int, today: date) -> list[ExtensionTask]:
        return self._tasks(agency_id, None)

    def task(self, agency_id: int, task_id: int, today: date) -> ExtensionTask | None:
        found = self._tasks(agency_id, task_id)
        return found[0] if found else None

    def request(self, draft: ExtensionDraft, now: datetime) -> ExtensionRequestInfo:
        item = self.task(draft.agency_id, draft.task_id, now.date())
        if item is None:
            raise ExtensionRefused("not_open")
        if item.pending:
            raise ExtensionRefused("pending")
        row = ExtensionRequest(
            task_id=draft.task_id,
            agency_id=draft.agency_id,
            requested_by=draft.requested_by,
            requested_at=now,
            original_date=item.deadline,
            new_date=draft.new_date,
            reason=draft.reason,
            status=PENDING,
        )
        self.session.add(row)
        self.session.flush()
        info = self.get(row.id)
        assert info is not None
        return info

    # -- deciding
    def get(self, request_id: int) -> ExtensionRequestInfo | None:
        found = self._infos(R.id == request_id)
        return found[0] if found else None

    def _infos(self, *where: Any, limit: int | None = None) -> list[ExtensionRequestInfo]:
        asker = select(Contact.id, Contact.display_name).subquery("asker")
        decider = select(Contact.id, Contact.display_name).subquery("decider")
        query = (
            select(
                R.id,
                R.task_id,
                Task.ref,
                Task.title,
                R.agency_id,
                Agency.name,
                asker.c.display_name,
                R.requested_at,
                R.original_date,
                R.new_date,
                R.reason,
                R.status,
                decider.c.display_name,
                R.refusal,
            )
            .join(Task, Task.id == R.task_id)
            .join(Agency, Agency.id == R.agency_id)
            .outerjoin(asker, asker.c.id == R.requested_by)
            .outerjoin(decider, decider.c.id == R.decided_by)
            .where(*where)
            .order_by(R.requested_at, R.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [
            ExtensionRequestInfo(
                id=row[0],
                task_id=row[1],
                ref=row[2],
                title=row[3],
                agency_id=row[4],
                agency_name=row[5],
                requested_by=row[6] or "",
                requested_at=_aware(row[7]) or row[7],
                current_deadline=row[8],
                new_date=row[9],
                reason=row[10],
                status=ExtensionStatus(row[11]),
                decided_by=row[12] or "",
                refusal=row[13] or "",
            )
            for row in self.session.connection().execute(query)
        ]

    def pending(self, limit: int = 50) -> list[ExtensionRequestInfo]:
        """Pending requests, oldest first: what a review queue lists."""
        return self._infos(R.status == PENDING, limit=limit)

    def next_pending(self, skipped: list[int]) -> ExtensionRequestInfo | None:
        where = [R.status == PENDING]
        if skipped:
            where.append(R.id.not_in(skipped))
        found = self._infos(and_(*where), limit=1)
        return found[0] if found else None

    def pending_count(self) -> int:
        return int(
            self.session.connection()
            .execute(select(func.count()).select_from(R).where(R.status == PENDING))
            .scalar_one()
        )

    def decide(
        self, request_id: int, decision: Decision, decider_id: int, refusal: str, now: datetime
    ) -> ExtensionRequestInfo:
        """Record the decision; a conditional UPDATE, so two coordinators cannot both decide."""
        status = APPROVED if decision is Decision.APPROVE else ExtensionStatus.REJECTED.value
        done = self.session.execute(
            update(R)
            .where(R.id == request_id, R.status == PENDING)
            .values(status=status, decided_by=decider_id, decided_at=now, refusal=refusal)
        )
        if getattr(done, "rowcount", 0) != 1:
            raise ExtensionRefused("decided")
        self.session.expire_all()
        info = self.get(request_id)
        assert info is not None
        return info

    def requester(self, request_id: int) -> Contact | None:
        row = self.session.get(ExtensionRequest, request_id)
        return self.session.get(Contact, row.requested_by) if row and row.requested_by else None


def pending_for(session: Session, agency_ids: Iterable[int]) -> int:
    ids = list(agency_ids)
    return int(
        session.connection()
        .execute(
            select(func.count()).select_from(R).where(R.status == PENDING, R.agency_id.in_(ids))
        )
        .scalar_one()
    )
