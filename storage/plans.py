"""Saving an imported plan: one transaction, updated in place on re-import.

Tasks are matched by (plan, ref) and keep their ids, so status reports survive a re-import of
a corrected document. Assignments are derived from the lead/coordinating cells and are rebuilt
each time; they are written with bulk inserts because a nationwide plan has ~350,000 of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, func, insert, update
from sqlmodel import Session, select

from core import model
from core.agencies import AgencyDirectory
from core.model import AssignmentRole, DeadlineRule, PlanDraft, RuleKind
from core.schedule import parse_schedule
from storage.agencies import agency_ids, load_directory
from storage.tables.shared import Agency, Area, Assignment, Plan, StatusReport, Task, utcnow


@dataclass
class PlanMeta:
    code: str
    title: str
    year: int
    issued_on: date | None = None
    issuer: str = ""
    source: str = ""
    number: str = ""  # "1234" of "Kế hoạch số 1234/KH-UBND"
    symbol: str = ""  # "KH-UBND"


@dataclass
class ImportSummary:
    plan_code: str
    areas: int = 0
    tasks: int = 0
    lead_assignments: int = 0
    coordinating_assignments: int = 0
    created_tasks: int = 0
    updated_tasks: int = 0
    removed_tasks: int = 0
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (task ref, text)
    flagged_schedules: list[tuple[str, str]] = field(default_factory=list)  # needs a coordinator
    kept_tasks: list[str] = field(default_factory=list)  # gone from the file, but have reports

    @property
    def assignments(self) -> int:
        return self.lead_assignments + self.coordinating_assignments


Progress = Callable[[int, int], None]


def save_plan(
    session: Session,
    meta: PlanMeta,
    draft: PlanDraft,
    directory: AgencyDirectory | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Write `draft` as plan `meta.code`; raises before writing if a lead cell names nobody."""
    directory = directory or load_directory(session)
    ids = agency_ids(session)
    summary = ImportSummary(meta.code, areas=len(draft.areas), tasks=len(draft.tasks))

    resolved = []
    for item in draft.tasks:
        lead = directory.resolve(item.lead_text)
        coordinating = directory.resolve(item.coordinating_text)
        if not lead.agencies:
            from core.plan_table import PlanFormatError

            raise PlanFormatError(
                f"nhiệm vụ {item.ref}: không xác định được cơ quan chủ trì từ {item.lead_text!r}",
                item.source_row,
            )
        for text in lead.unresolved + coordinating.unresolved:
            summary.unresolved.append((item.ref, text))
        resolved.append((item, lead, coordinating))

    plan = session.exec(select(Plan).where(Plan.code == meta.code)).first()
    if plan is None:
        plan = Plan(code=meta.code, title=meta.title, year=meta.year)
        session.add(plan)
    plan.title, plan.year = meta.title, meta.year
    plan.issued_on, plan.issuer, plan.source = meta.issued_on, meta.issuer, meta.source
    # an import that does not know the number (a file given on the command line) keeps it
    plan.number = meta.number or plan.number or ""
    plan.symbol = meta.symbol or plan.symbol or ""
    plan.imported_at = utcnow()
    session.flush()
    assert plan.id is not None

    areas = {a.code: a for a in session.exec(select(Area).where(Area.plan_id == plan.id))}
    for position, area_draft in enumerate(draft.areas):
        area = areas.get(area_draft.code) or Area(plan_id=plan.id, code=area_draft.code, title="")
        area.title, area.position = area_draft.title, position
        session.add(area)
        areas[area_draft.code] = area
    session.flush()

    tasks = {t.ref: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    wanted = {t.ref for t in draft.tasks}
    stale = [t for ref, t in tasks.items() if ref not in wanted]
    task: Task | None  # a stale task below, then each draft's row
    if stale:
        with_reports = set(
            session.exec(
                select(StatusReport.task_id).where(StatusReport.task_id.in_([t.id for t in stale]))
            )
        )
        for task in stale:
            if task.id in with_reports:
                summary.kept_tasks.append(task.ref)
                continue
            session.exec(delete(Assignment).where(Assignment.task_id == task.id))
            session.delete(task)
            summary.removed_tasks += 1
        session.flush()

    for position, (task_draft, lead, coordinating) in enumerate(resolved):
        rule = parse_schedule(task_draft.schedule, default_year=meta.year)
        task = tasks.get(task_draft.ref)
        if task is None:
            task = Task(plan_id=plan.id, area_id=0, ref=task_draft.ref, title="", rule_kind="")
            summary.created_tasks += 1
        else:
            summary.updated_tasks += 1
        task.area_id = areas[task_draft.area].id
        task.position = position
        task.title = task_draft.title
        task.schedule = task_draft.schedule
        if not (task.needs_coordinator and rule.needs_coordinator and task.due_date):
            # A date a coordinator set for an external schedule survives re-import.
            task.due_date = rule.due
        task.rule_kind = rule.kind.value
        task.recurrence = rule.recurrence
        task.needs_coordinator = rule.needs_coordinator
        if rule.kind is RuleKind.UNKNOWN:
            summary.flagged_schedules.append((task_draft.ref, task_draft.schedule))
        task.expected_output = task_draft.expected_output
        task.lead_text = task_draft.lead_text
        task.coordinating_text = task_draft.coordinating_text
        task.group_ref = task_draft.group_ref
        task.group_title = task_draft.group_title
        task.unresolved = json.dumps(lead.unresolved + coordinating.unresolved, ensure_ascii=False)
        session.add(task)
        tasks[task_draft.ref] = task
    session.flush()

    _sync_assignments(session, resolved, tasks, ids, summary, progress)
    session.flush()
    return summary


def _sync_assignments(
    session: Session,
    resolved: list,
    tasks: dict[str, Task],
    ids: dict[str, int],
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    """Make the stored assignments equal the resolved cells, touching only what changed.

    Keeping unchanged rows (and their ids) means re-importing the same file changes nothing.
    """
    wanted: dict[tuple[int, int, str], str] = {}
    total = len(resolved)
    for done, (task_draft, lead, coordinating) in enumerate(resolved, start=1):
        task_id = tasks[task_draft.ref].id
        assert task_id is not None
        for role, cell in ((AssignmentRole.LEAD, lead), (AssignmentRole.COORDINATE, coordinating)):
            for ref in cell.agencies:
                wanted.setdefault((task_id, ids[ref.code], role.value), ref.annotation)
        summary.lead_assignments += len(lead.agencies)
        summary.coordinating_assignments += len(coordinating.agencies)
        if progress:
            progress(done, total)

    task_ids = [t.id for t in tasks.values()]
    existing: dict[tuple[int, int, str], tuple[int | None, str]] = {}
    for chunk in _chunks(task_ids, 500):
        query = select(
            Assignment.id,
            Assignment.task_id,
            Assignment.agency_id,
            Assignment.role,
            Assignment.annotation,
        ).where(Assignment.task_id.in_(chunk))
        for row_id, task_id, agency_id, role_value, annotation in session.exec(query):
            existing[(task_id, agency_id, role_value)] = (row_id, annotation)

    stale = [row_id for key, (row_id, _) in existing.items() if key not in wanted]
    for chunk in _chunks(stale, 1000):
        session.exec(delete(Assignment).where(Assignment.id.in_(chunk)))
    changed = [
        {"b_id": existing[key][0], "b_annotation": annotation}
        for key, annotation in wanted.items()
        if key in existing and existing[key][1] != annotation
    ]
    if changed:
        statement = (
            update(Assignment)
            .where(Assignment.id == bindparam("b_id"))
            .values(annotation=bindparam("b_annotation"))
        )
        session.connection().execute(statement, changed)
    new_rows = [
        {"task_id": t, "agency_id": a, "role": r, "annotation": annotation}
        for (t, a, r), annotation in wanted.items()
        if (t, a, r) not in existing
    ]
    for chunk in _chunks(new_rows, 5000):
        session.execute(insert(Assignment), chunk)


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def plan_by_code(session: Session, code: str | None) -> Plan | None:
    """The plan with `code`, or the most recently imported one when no code is given."""
    query = select(Plan)
    query = query.where(Plan.code == code) if code else query.order_by(Plan.imported_at.desc())
    return session.exec(query).first()


def count_assignments(session: Session, plan_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Assignment)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan_id)
    ).one()


def load_plan(session: Session, plan: Plan) -> model.Plan:
    """The stored plan as domain objects, tasks in appendix order with their assignments."""
    areas = session.exec(select(Area).where(Area.plan_id == plan.id).order_by(Area.position)).all()
    area_codes = {a.id: a.code for a in areas}
    tasks = session.exec(select(Task).where(Task.plan_id == plan.id).order_by(Task.position)).all()
    by_task: dict[int, list[model.Assignment]] = {t.id: [] for t in tasks}
    query = (
        select(Assignment.task_id, Assignment.role, Assignment.annotation, Agency.code)
        .join(Agency, Agency.id == Assignment.agency_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan.id)
        .order_by(Assignment.id)
    )
    for task_id, role, annotation, code in session.exec(query):
        by_task[task_id].append(model.Assignment(code, AssignmentRole(role), annotation))
    return model.Plan(
        code=plan.code,
        title=plan.title,
        year=plan.year,
        issued_on=plan.issued_on,
        issuer=plan.issuer,
        areas=tuple(model.Area(a.code, a.title) for a in areas),
        tasks=tuple(
            model.Task(
                area=area_codes[t.area_id],
                ref=t.ref,
                title=t.title,
                schedule=t.schedule,
                rule=DeadlineRule(RuleKind(t.rule_kind), t.schedule, t.due_date, t.recurrence),
                expected_output=t.expected_output,
                lead_text=t.lead_text,
                coordinating_text=t.coordinating_text,
                assignments=tuple(by_task[t.id]),
            )
            for t in tasks
        ),
    )
