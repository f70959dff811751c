"""Reporting rounds in the database: create, edit, close, and who their audience is.

Coordinators create rounds in chat (/kybaocao) and IT staff with `parbot round …`; both go
through these functions so the same checks apply: the audience must name agencies, kinds or
tasks that exist, the deadline must be a real date, codes are unique.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from core.flows.rounds import RoundDraft, RoundInfo, RoundRefused
from core.round_documents import RoundAsks
from core.rounds import RECURRENCE_MONTHS, Audience, AudienceError, RoundSchedule
from core.text import fold
from storage.chat.state import find_agencies
from storage.tables.shared import Agency, Assignment, Plan, ReportingRound, Task

OPEN, CLOSED = "open", "closed"


class RoundError(ValueError):
    """A round request that cannot be carried out; the message is for the user (Vietnamese)."""


@dataclass(frozen=True)
class RoundView:
    round: ReportingRound
    audience: Audience
    schedule: RoundSchedule


def view(row: ReportingRound) -> RoundView:
    return RoundView(
        row,
        Audience.from_json(row.audience),
        RoundSchedule(row.deadline, row.opens_on, row.recurrence),
    )


def latest_plan(session: Session) -> Plan | None:
    return session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.id).desc())).first()


def get_round(session: Session, code: str) -> ReportingRound | None:
    return session.exec(select(ReportingRound).where(ReportingRound.code == code.strip())).first()


def list_rounds(session: Session, status: str | None = None) -> list[ReportingRound]:
    query = select(ReportingRound).order_by(ReportingRound.deadline, ReportingRound.code)
    if status:
        query = query.where(ReportingRound.status == status)
    return list(session.exec(query).all())


def open_rounds(session: Session) -> list[ReportingRound]:
    return list_rounds(session, OPEN)


def make_code(session: Session, title: str, deadline: date) -> str:
    """A readable unique code from the title: "BC-QUY-III-2024-09-30"."""
    words = re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-").upper()
    base = f"{words[:40].rstrip('-') or 'KY'}-{deadline.isoformat()}"
    code, n = base, 1
    while get_round(session, code) is not None:
        n += 1
        code = f"{base}-{n}"
    return code


def check_audience(session: Session, audience: Audience, plan: Plan | None) -> None:
    """Raise RoundError (Vietnamese) unless every code and task ref exists."""
    try:
        audience.validate()
    except AudienceError as exc:
        raise RoundError(f"đối tượng báo cáo không hợp lệ: {exc}") from exc
    if audience.agencies:
        known = set(
            session.exec(select(Agency.code).where(col(Agency.code).in_(audience.agencies))).all()
        )
        missing = [c for c in audience.agencies if c not in known]
        if missing:
            raise RoundError("không có cơ quan mã " + ", ".join(missing))
    if audience.tasks and not audience.all_tasks:
        if plan is None:
            raise RoundError("chưa có kế hoạch nào để chọn nhiệm vụ")
        known = set(
            session.exec(
                select(Task.ref).where(Task.plan_id == plan.id, col(Task.ref).in_(audience.tasks))
            ).all()
        )
        missing = [r for r in audience.tasks if r not in known]
        if missing:
            raise RoundError("không có nhiệm vụ " + ", ".join(missing))


def create_round(
    session: Session,
    *,
    title: str,
    deadline: date,
    audience: Audience,
    ask: str = "",
    opens_on: date | None = None,
    recurrence: str | None = None,
    code: str | None = None,
    created_by: int | None = None,
    plan: Plan | None = None,
    asks: str = RoundAsks.STATUS.value,
) -> ReportingRound:
    title = title.strip()
    if not title:
        raise RoundError("kỳ báo cáo cần có tên")
    if asks not in {a.value for a in RoundAsks}:
        raise RoundError(f"yêu cầu {asks!r} không hợp lệ (status, document)")
    if recurrence and recurrence not in RECURRENCE_MONTHS:
        raise RoundError(f"chu kỳ {recurrence!r} không hợp lệ (monthly, quarterly, yearly)")
    if opens_on and opens_on > deadline:
        raise RoundError("ngày mở kỳ phải trước hạn báo cáo")
    plan = plan or latest_plan(session)
    check_audience(session, audience, plan)
    if code:
        code = code.strip().upper()
        if get_round(session, code) is not None:
            raise RoundError(f"mã kỳ báo cáo {code} đã có")
    row = ReportingRound(
        plan_id=plan.id if plan else None,
        code=code or make_code(session, title, deadline),
        title=title,
        ask=ask.strip(),
        opens_on=opens_on,
        deadline=deadline,
        recurrence=recurrence,
        audience=audience.to_json(),
        status=OPEN,
        created_by=created_by,
        asks=asks,
    )
    session.add(row)
    session.flush()
    return row


def set_deadline(session: Session, code: str, deadline: date) -> ReportingRound:
    row = _existing(session, code)
    if row.opens_on and row.opens_on > deadline:
        raise RoundError("hạn mới trước ngày mở kỳ")
    row.deadline = deadline
    session.add(row)
    session.flush()
    return row


def set_status(session: Session, code: str, status: str) -> ReportingRound:
    row = _existing(session, code)
    row.status = status
    session.add(row)
    session.flush()
    return row


def _existing(session: Session, code: str) -> ReportingRound:
    row = get_round(session, code)
    if row is None:
        raise RoundError(f"không có kỳ báo cáo {code}")
    return row


def set_task_date(session: Session, ref: str, due: date, plan: Plan | None = None) -> Task:
    """Give a task whose schedule is external ("Theo kế hoạch của Bộ Nội vụ") its date."""
    plan = plan or latest_plan(session)
    if plan is None:
        raise RoundError("chưa có kế hoạch nào")
    task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.ref == ref)).first()
    if task is None:
        raise RoundError(f"không có nhiệm vụ {ref} trong kế hoạch {plan.code}")
    if not task.needs_coordinator:
        raise RoundError(
            f"nhiệm vụ {ref} đã có tiến độ trong kế hoạch ({task.schedule}); không đặt lại được"
        )
    task.due_date = due
    session.add(task)
    session.flush()
    return task


def audience_agency_ids(session: Session, row: ReportingRound) -> list[int]:
    """Active agencies the round asks (for per-task rounds: every assignee it names)."""
    audience = Audience.from_json(row.audience)
    if audience.per_task:
        query = (
            select(Assignment.agency_id)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(
                Task.plan_id == row.plan_id,
                col(Assignment.role).in_(audience.roles),
                Agency.active == True,  # noqa: E712
            )
            .distinct()
        )
        if not audience.all_tasks:
            query = query.where(col(Task.ref).in_(audience.tasks or ()))
        return list(session.exec(query).all())
    query = select(Agency.id).where(Agency.active == True)  # noqa: E712
    conditions = []
    if audience.agencies:
        conditions.append(col(Agency.code).in_(audience.agencies))
    if audience.kinds:
        conditions.append(col(Agency.kind).in_(audience.kinds))
    query = query.where(or_(*conditions))
    return [i for i in session.exec(query).all() if i is not None]


def round_info(row: ReportingRound) -> RoundInfo:
    return RoundInfo(row.code, row.title, row.deadline, row.status)


class SqlRoundStore:
    """`core.flows.rounds.RoundStore` on the update's session (/kybaocao, /nhacnho)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open_rounds(self) -> list[RoundInfo]:
        return [round_info(row) for row in open_rounds(self.session)]

    def round(self, code: str) -> RoundInfo | None:
        row = get_round(self.session, code)
        return round_info(row) if row is not None else None

    def unknown_refs(self, refs: Sequence[str]) -> list[str]:
        plan = latest_plan(self.session)
        known = set(
            self.session.exec(
                select(Task.ref).where(
                    Task.plan_id == (plan.id if plan else -1), col(Task.ref).in_(list(refs))
                )
            ).all()
        )
        return [r for r in refs if r not in known]

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]:
        return find_agencies(self.session, typed, limit=limit)

    def create(self, draft: RoundDraft) -> RoundInfo:
        try:
            row = create_round(
                self.session,
                title=draft.title,
                deadline=draft.deadline,
                audience=draft.audience,
                ask=draft.ask,
                opens_on=draft.opens_on,
                recurrence=draft.recurrence,
                created_by=draft.created_by,
                asks=draft.asks,
            )
        except RoundError as exc:
            raise RoundRefused(str(exc)) from exc
        return round_info(row)

    def set_deadline(self, code: str, deadline: date) -> RoundInfo:
        try:
            return round_info(set_deadline(self.session, code, deadline))
        except RoundError as exc:
            raise RoundRefused(str(exc)) from exc

    def close(self, code: str) -> RoundInfo:
        try:
            return round_info(set_status(self.session, code, CLOSED))
        except RoundError as exc:
            raise RoundRefused(str(exc)) from exc
