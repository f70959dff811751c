"""Loading one compiled report's data with a handful of set-based queries.

A nationwide plan holds ~350,000 assignments and as many reports, so nothing here loads ORM
objects or asks per task or per agency: one query each for tasks, assignments, reports and
evidence names, all filtered by the same scope clauses on `task` and `agency`, returning plain
tuples that become `core.report_model` values. Evidence bytes are streamed separately
(`iter_evidence`) for the zip bundle and never held in memory all at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, String, and_, false, or_, select, type_coerce
from sqlmodel import Session

from core.model import AgencyKind, AssignmentRole
from core.report_model import (
    AgencyInfo,
    AreaInfo,
    EvidenceInfo,
    Letterhead,
    PlanInfo,
    Progress,
    ReportData,
    ReportInfo,
    RoundInfo,
    Scope,
    TaskInfo,
)
from core.round_documents import asks_document
from storage.extensions import approved
from storage.plans import plan_by_code
from storage.reports.round_documents import load_document_rounds
from storage.tables.shared import (
    Agency,
    Area,
    Assignment,
    Contact,
    EvidenceFile,
    Plan,
    ReportingRound,
    StatusReport,
    Task,
)


class ScopeError(LookupError):
    """A scope names something that does not exist; `what` is plan|round|area|kind|agency."""

    def __init__(self, what: str, value: str) -> None:
        super().__init__(f"{what}: {value}")
        self.what = what
        self.value = value


def _aware(value: datetime | str) -> datetime:
    """A stored time as aware UTC: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if type(value) is str:
        if value[-6:-5] in ("+", "-") and value[-3:-2] == ":":
            return datetime.fromisoformat(value).astimezone(UTC)
        return datetime.fromisoformat(value + "+00:00")  # 5× cheaper than .replace(tzinfo)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day_end_utc(day: date, tz: tzinfo) -> datetime:
    """The first instant after `day` in `tz`: reports before it count "as of" that day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _plan(session: Session, code: str | None) -> Plan:
    plan = plan_by_code(session, code)
    if plan is None:
        raise ScopeError("plan", code or "")
    return plan


def _round(session: Session, plan: Plan, code: str | None) -> ReportingRound | None:
    if not code:
        return None
    found = session.execute(
        select(ReportingRound).where(ReportingRound.code == code)
    ).scalar_one_or_none()
    if found is None or (found.plan_id is not None and found.plan_id != plan.id):
        raise ScopeError("round", code)
    return found


def _audience_clause(round_: ReportingRound | None) -> list[ColumnElement[bool]]:
    """A round's audience ({"agencies": codes, "kinds": kinds, "tasks": refs}) as filters."""
    if round_ is None:
        return []
    audience: dict[str, Any] = json.loads(round_.audience or "{}")
    clauses: list[ColumnElement[bool]] = []
    codes, kinds = audience.get("agencies") or [], audience.get("kinds") or []
    if codes or kinds:
        who = [Agency.code.in_(codes)] if codes else []
        who += [Agency.kind.in_(kinds)] if kinds else []
        clauses.append(or_(*who))
    if audience.get("tasks") and audience["tasks"] not in ("*", ["*"]):  # "*": all (core.rounds)
        clauses.append(Task.ref.in_(audience["tasks"]))
    if asks_document(round_.asks):  # a round asking for a document covers no task
        clauses.append(false())
    return clauses


def _scope_clauses(
    session: Session, plan: Plan, scope: Scope, round_: ReportingRound | None
) -> tuple[list[ColumnElement[bool]], Area | None]:
    """Filters over `task` and `agency` shared by every query of the report."""
    clauses: list[ColumnElement[bool]] = [Task.plan_id == plan.id]
    area = None
    if scope.area_code:
        area = session.execute(
            select(Area).where(Area.plan_id == plan.id, Area.code == scope.area_code.upper())
        ).scalar_one_or_none()
        if area is None:
            raise ScopeError("area", scope.area_code)
        clauses.append(Task.area_id == area.id)
    if scope.agency_kind:
        if scope.agency_kind not in {k.value for k in AgencyKind}:
            raise ScopeError("kind", scope.agency_kind)
        clauses.append(Agency.kind == scope.agency_kind)
    if scope.agency_codes:  # a reader's reach (core.auth.report_reach): several agencies
        clauses.append(Agency.code.in_(scope.agency_codes))
    elif scope.agency_code:
        agency_id = session.execute(
            select(Agency.id).where(Agency.code == scope.agency_code)
        ).scalar_one_or_none()
        if agency_id is None:
            raise ScopeError("agency", scope.agency_code)
        clauses.append(Agency.id == agency_id)
    clauses += _audience_clause(round_)
    return clauses, area


def load_report_data(
    session: Session,
    scope: Scope,
    tz: tzinfo,
    now: datetime,
    progress: Progress | None = None,
    pair: tuple[int, int] | None = None,
) -> ReportData:
    """Everything `core.evaluation.evaluate` needs for `scope`, as of `scope.as_of` (or today).

    Reports from agencies not assigned to the task in scope are left out: they cannot be
    judged against anything. Raises `ScopeError` when the scope names something unknown.
    `pair` (task id, agency id) narrows the scope to that one assignment: how the stored
    evaluations follow a report (storage/reports/evaluation_store.py) in a few milliseconds.
    """
    step = progress or (lambda _stage, _done, _total: None)
    plan = _plan(session, scope.plan_code)
    round_ = _round(session, plan, scope.round_code)
    as_of = scope.as_of or now.astimezone(tz).date()
    clauses, _area = _scope_clauses(session, plan, scope, round_)
    if pair is not None:
        clauses += [Task.id == pair[0], Agency.id == pair[1]]
    where = and_(*clauses)
    assert plan.id is not None
    row: Any  # rows of the several queries below

    areas = [
        AreaInfo(a.id, a.code, a.title, a.position)
        for a in session.execute(select(Area).where(Area.plan_id == plan.id)).scalars()
    ]

    step("assignments", 0, 4)
    # Core execution (no ORM row processing): these queries return up to ~350,000 rows.
    connection = session.connection()
    leads: dict[int, list[int]] = defaultdict(list)
    coordinators: dict[int, list[int]] = defaultdict(list)
    rows = connection.execute(
        select(Assignment.task_id, Assignment.agency_id, Assignment.role)
        .join(Task, Task.id == Assignment.task_id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .where(where)
        .order_by(Assignment.task_id, Assignment.agency_id)
    ).all()  # fetchall: row-by-row iteration costs seconds at 350,000 rows
    lead = AssignmentRole.LEAD.value
    for task_id, agency_id, role in rows:
        (leads if role == lead else coordinators)[task_id].append(agency_id)
    del rows
    for task_id, lead_ids in leads.items():
        # An agency both leading and coordinating a task answers for it as lead.
        if task_id in coordinators:
            mine = set(lead_ids)
            coordinators[task_id] = [a for a in coordinators[task_id] if a not in mine]
    in_scope = set(leads) | set(coordinators)

    one_task = [Task.id == pair[0]] if pair is not None else []
    task_rows = session.execute(select(Task).where(Task.plan_id == plan.id, *one_task)).scalars()
    tasks = [
        TaskInfo(
            t.id,
            t.ref,
            t.area_id,
            t.position,
            t.title,
            t.schedule,
            t.rule_kind,
            t.due_date,
            t.expected_output,
            t.lead_text,
            t.coordinating_text,
        )
        for t in task_rows
        if t.id in in_scope
    ]
    agency_ids = {a for ids in leads.values() for a in ids}
    agency_ids |= {a for ids in coordinators.values() for a in ids}
    one_agency = [Agency.id == pair[1]] if pair is not None else []
    agencies = {
        row.id: AgencyInfo(row.id, row.code, row.name, row.kind)
        for row in session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.kind).where(*one_agency)
        )
        if row.id in agency_ids
    }

    step("reports", 1, 4)
    cutoff = day_end_utc(as_of, tz)
    report_where = [where, StatusReport.submitted_at < cutoff]
    if round_ is not None:
        report_where.append(StatusReport.round_id == round_.id)
    evidence: dict[int, list[EvidenceInfo]] = defaultdict(list)
    for row in connection.execute(
        select(EvidenceFile.id, EvidenceFile.report_id, EvidenceFile.file_name, EvidenceFile.size)
        .join(StatusReport, StatusReport.id == EvidenceFile.report_id)
        .join(Task, Task.id == StatusReport.task_id)
        .join(Agency, Agency.id == StatusReport.agency_id)
        .where(*report_where)
        .order_by(EvidenceFile.report_id, EvidenceFile.id)
    ):
        evidence[row.report_id].append(EvidenceInfo(row.id, row.report_id, row.file_name, row.size))

    step("reports", 2, 4)
    pairs = {(t, a) for t, ids in leads.items() for a in ids}
    pairs |= {(t, a) for t, ids in coordinators.items() for a in ids}
    reports: list[ReportInfo] = []
    from_iso = datetime.fromisoformat
    for row in connection.execute(
        select(
            StatusReport.id,
            StatusReport.receipt,
            StatusReport.task_id,
            StatusReport.agency_id,
            ReportingRound.code,
            Contact.display_name,
            StatusReport.version,
            StatusReport.status,
            StatusReport.result,
            StatusReport.figure,
            StatusReport.difficulties,
            # raw: SQLite's text is parsed below with the C `fromisoformat`, several times
            # faster than the column type's processor at this volume
            type_coerce(StatusReport.submitted_at, String),
            StatusReport.review,
            StatusReport.review_reason,
            StatusReport.answer,
            StatusReport.answered_at,
        )
        .join(Task, Task.id == StatusReport.task_id)
        .join(Agency, Agency.id == StatusReport.agency_id)
        .outerjoin(ReportingRound, ReportingRound.id == StatusReport.round_id)
        .outerjoin(Contact, Contact.id == StatusReport.reporter_id)
        .where(*report_where)  # unordered: sorting 350,000 rows is cheaper in Python
    ).all():
        if (row[2], row[3]) not in pairs:
            continue
        raw = row[11]
        if type(raw) is str:
            try:  # SQLite: naive UTC text; appending the offset beats .replace(tzinfo=UTC)
                submitted_at = from_iso(raw + "+00:00")
            except ValueError:
                submitted_at = _aware(raw)
        else:
            submitted_at = _aware(raw)
        rid = row[0]
        reports.append(
            ReportInfo(
                rid,
                row[1],
                row[2],
                row[3],
                row[4],
                row[5] or "",
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                submitted_at,
                tuple(evidence.get(rid, ())),
                row[12],
                row[13],
                row[14],
                row[15],
            )
        )
    step("reports", 4, 4)
    extensions = {
        pair: info
        for pair, info in approved(session, in_scope, agency_ids).items()
        if pair in pairs
    }

    return ReportData(
        plan=PlanInfo(
            plan.id,
            plan.code,
            plan.title,
            plan.year,
            plan.issuer,
            plan.issued_on,
            plan.number,
            plan.symbol,
        ),
        round=(
            RoundInfo(round_.id, round_.code, round_.title, round_.deadline)
            if round_ is not None
            else None
        ),
        scope=scope,
        as_of=as_of,
        generated_at=now,
        areas=areas,
        tasks=tasks,
        agencies=agencies,
        leads=dict(leads),
        coordinators={t: ids for t, ids in coordinators.items() if ids},
        reports=reports,
        extensions=extensions,
        documents=load_document_rounds(session, plan, scope, round_, as_of, cutoff, tz),
    )


def iter_evidence(
    session: Session, data: ReportData, batch: int = 200
) -> Iterator[tuple[ReportInfo, EvidenceInfo, bytes]]:
    """Every evidence file of the reports in `data`, bytes included, a batch at a time, in
    appendix order (task, agency, report version, upload)."""
    by_id: dict[int, tuple[ReportInfo, EvidenceInfo]] = {
        ev.id: (report, ev) for report in data.reports for ev in report.evidence
    }
    position = {t.id: t.position for t in data.tasks}
    ids = sorted(
        by_id,
        key=lambda i: (
            position[by_id[i][0].task_id],
            by_id[i][0].agency_id,
            by_id[i][0].version,
            by_id[i][0].submitted_at,
            i,
        ),
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = session.execute(
            select(EvidenceFile.id, EvidenceFile.content).where(
                EvidenceFile.id.in_(chunk) if chunk else false()
            )
        )
        contents = {row[0]: row[1] for row in rows}
        for evidence_id in chunk:
            report, info = by_id[evidence_id]
            yield report, info, contents[evidence_id]


_TERRITORY_PREFIXES = ("ủy ban nhân dân ", "uỷ ban nhân dân ", "ubnd ")
_PLACE_PREFIXES = ("tỉnh ", "thành phố ", "tp. ", "tp ")


def territory_of(issuer: str) -> str:
    """ "UBND tỉnh Quảng Nam" → "tỉnh Quảng Nam": the people's committee's territory."""
    text = issuer.strip()
    for prefix in _TERRITORY_PREFIXES:
        if text.lower().startswith(prefix):
            return text[len(prefix) :].strip()
    return text


def place_of(issuer: str) -> str:
    """ "UBND tỉnh Quảng Nam" → "Quảng Nam", the place written in the date line."""
    territory = territory_of(issuer)
    for prefix in _PLACE_PREFIXES:
        if territory.lower().startswith(prefix):
            return territory[len(prefix) :].strip()
    return territory


def letterhead(
    session: Session,
    plan: PlanInfo,
    issuer_code: str,
    place: str | None = None,
    signer_name: str = "",
    signer_title: str = "",
) -> Letterhead:
    """The Word report's issuing body: agency `issuer_code` under the plan's issuer."""
    name = session.execute(
        select(Agency.name).where(Agency.code == issuer_code)
    ).scalar_one_or_none()
    if name is None:
        raise ScopeError("agency", issuer_code)
    return Letterhead(
        parent_body=plan.issuer,
        territory=territory_of(plan.issuer),
        body=name,
        body_code=issuer_code,
        place=place or place_of(plan.issuer),
        signer_name=signer_name,
        signer_title=signer_title,
    )
