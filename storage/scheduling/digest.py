"""Queries behind the daily digest: status counts per area, new reports, overdue agencies.

Set-based on purpose (a digest for a nationwide plan reads ~175,000 lead assignments): one
query per figure, plain tuples back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.model import AssignmentRole, ReportStatus
from storage.tables.shared import (
    Agency,
    Area,
    Assignment,
    Contact,
    Outbox,
    Plan,
    StatusReport,
    Task,
)
from storage.zalo.window import OUTSIDE_WINDOW, causes_of

NO_REPORT = "none"  # a lead assignment without any report yet


@dataclass
class AreaCounts:
    code: str
    title: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class NewReport:
    agency: str
    task_ref: str
    status: str
    at: datetime


def status_by_area(session: Session, plan: Plan) -> list[AreaCounts]:
    """Every lead assignment of `plan` counted under its latest report's status."""
    latest = (
        select(
            StatusReport.agency_id,
            StatusReport.task_id,
            func.max(StatusReport.id).label("report_id"),
        )
        .join(Task, col(Task.id) == StatusReport.task_id)
        .where(Task.plan_id == plan.id, StatusReport.is_latest == True)  # noqa: E712
        .group_by(StatusReport.agency_id, StatusReport.task_id)
        .subquery()
    )
    statuses: dict[tuple[int, int], str] = {}
    rows = session.execute(
        select(latest.c.agency_id, latest.c.task_id, StatusReport.status).join(
            StatusReport, col(StatusReport.id) == latest.c.report_id
        )
    ).all()
    for agency_id, task_id, status in rows:
        statuses[(agency_id, task_id)] = status
    areas = {
        a.id: AreaCounts(a.code, a.title)
        for a in session.exec(select(Area).where(Area.plan_id == plan.id).order_by(Area.position))
    }
    pairs = session.execute(
        select(Task.area_id, Assignment.agency_id, Assignment.task_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(
            Task.plan_id == plan.id,
            Assignment.role == AssignmentRole.LEAD.value,
            Agency.active == True,  # noqa: E712
        )
    ).all()
    for area_id, agency_id, task_id in pairs:
        areas[area_id].counts[statuses.get((agency_id, task_id), NO_REPORT)] += 1
    return list(areas.values())


def reports_since(
    session: Session, since: datetime, limit: int = 10
) -> tuple[int, list[NewReport]]:
    """How many reports arrived since `since`, and the latest `limit` of them."""
    total = session.execute(
        select(func.count()).select_from(StatusReport).where(StatusReport.submitted_at >= since)
    ).scalar_one()
    rows = session.execute(
        select(Agency.name, Task.ref, StatusReport.status, StatusReport.submitted_at)
        .join(Agency, col(Agency.id) == StatusReport.agency_id)
        .join(Task, col(Task.id) == StatusReport.task_id)
        .where(StatusReport.submitted_at >= since)
        .order_by(col(StatusReport.submitted_at).desc())
        .limit(limit)
    ).all()
    return int(total), [NewReport(*row) for row in rows]


def blocked_count(session: Session, plan: Plan) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(StatusReport)
            .join(Task, col(Task.id) == StatusReport.task_id)
            .where(
                Task.plan_id == plan.id,
                StatusReport.is_latest == True,  # noqa: E712
                StatusReport.status == ReportStatus.BLOCKED.value,
            )
        ).scalar_one()
    )


def agency_names(session: Session, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for agency_id, name in session.execute(
            select(Agency.id, Agency.name).where(col(Agency.id).in_(ids[start : start + 500]))
        ).all():
            names[agency_id] = name
    return names


def late_by_agency(pairs: list[tuple[int, int]]) -> dict[int, int]:
    """(agency, open items) summed per agency."""
    counts: dict[int, int] = defaultdict(int)
    for agency_id, n in pairs:
        counts[agency_id] += n
    return dict(counts)


def digest_muted(session: Session, contact_id: int) -> bool:
    """Whether the contact has turned the daily digest off (/caidat)."""
    contact = session.get(Contact, contact_id)
    return bool(contact and contact.digest_muted)


def set_digest_muted(session: Session, contact_id: int, muted: bool) -> None:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    contact.digest_muted = muted
    session.add(contact)


@dataclass(frozen=True)
class Unreached:
    """A Zalo contact whose messages were held back by the Official Account's window."""

    name: str
    agency: str
    messages: int
    causes: tuple[str, ...]  # of the latest one (storage.zalo.window: no_zns_template, …)


@dataclass(frozen=True)
class UnreachedOnZalo:
    people: list[Unreached]
    reminders: int  # reminders among those messages that could not go out


REMINDER_KINDS = ("reminder", "checkin")


def unreached_on_zalo(session: Session, since: datetime) -> UnreachedOnZalo:
    """Messages that failed since `since` because the user was outside the messaging window
    (marked by the channel, storage.zalo.window), per contact, and how many were reminders."""
    rows = session.execute(
        select(Outbox.contact_id, Outbox.kind, Outbox.error, Contact.display_name, Agency.name)
        .join(Contact, col(Contact.id) == Outbox.contact_id)
        .outerjoin(Agency, col(Agency.id) == Contact.agency_id)
        .where(
            Outbox.status == "failed",
            col(Outbox.claimed_at) >= since,
            col(Outbox.error).contains(OUTSIDE_WINDOW),
        )
        .order_by(col(Outbox.claimed_at), col(Outbox.id))
    ).all()
    counts: Counter[int] = Counter()
    latest: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    reminders = 0
    for contact_id, kind, error, name, agency in rows:
        assert contact_id is not None  # joined to its contact
        counts[contact_id] += 1
        latest[contact_id] = (name or "", agency or "", causes_of(error))
        reminders += kind in REMINDER_KINDS
    people = [Unreached(latest[c][0], latest[c][1], n, latest[c][2]) for c, n in counts.items()]
    return UnreachedOnZalo(sorted(people, key=lambda p: (p.agency, p.name)), reminders)
