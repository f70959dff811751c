"""Every assignment's evaluation kept in the database, so views read it instead of recompiling.

Compiling a nationwide plan takes seconds; a dashboard page has a few hundred milliseconds.
So the verdict of each (task, agency) pair — computed by `core.evaluation.evaluate`, the same
code every report uses — is stored in `assignment_evaluation` and refreshed:

* `refresh_assignment(session, task_id, agency_id, tz, now)` — also reachable as
  `refresh_after_report` — in the transaction of every report, review or deadline change of
  that pair: the one pair is judged again in each stored view (a few milliseconds);
* `refresh_all(session, tz, now)`: at the day change (days overdue and "quá hạn" move with the
  date) and after an import; `ensure_stored` stores a view nobody has kept yet (a round opened
  today, a closed round) the first time a page asks for it.

Each view's pairs are also kept counted (`assignment_evaluation_tally`, moved with every
write), so *Tổng quan* adds up a few hundred rows, not 350,000.

Reading: `summary()` adds the stored verdicts up into a `CompiledReport` whose tasks lists are
empty but whose tallies (totals, areas, kinds) follow the core counting rule — leads count, and
coordinating agencies stand in only when the scope holds no lead of a task — so it renders with
the same chart and JSON code as the full report. `matrix()` pages agencies × tasks.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from core.evaluation import evaluate, kind_order, task_verdict
from core.model import AssignmentRole
from core.report_model import (
    AgencyInfo,
    AreaInfo,
    AreaResult,
    CompiledReport,
    Evaluation,
    PlanInfo,
    ReportData,
    ReportInfo,
    RoundInfo,
    Scope,
    Tally,
    TaskInfo,
    Verdict,
)
from storage.extensions import approved
from storage.reports.query import day_end_utc, load_report_data
from storage.tables.reports import AssignmentEvaluation, EvaluationGeneration, EvaluationTally
from storage.tables.shared import (
    Agency,
    Area,
    Assignment,
    Plan,
    ReportingRound,
    StatusReport,
    Task,
)

E = AssignmentEvaluation
_TABLE = AssignmentEvaluation.__table__
T = EvaluationTally
_TALLY = EvaluationTally.__table__
PLAN_WIDE = 0


def _views(session: Session, plan_id: int) -> list[tuple[int, str | None]]:
    """(round_key, round code) of the views the daily job keeps: plan-wide and each open
    round. A closed round's view is stored when first asked for (`ensure_stored`)."""
    rounds = session.execute(
        select(ReportingRound.id, ReportingRound.code).where(
            (ReportingRound.plan_id == plan_id) | ReportingRound.plan_id.is_(None),
            ReportingRound.status == "open",
        )
    ).all()
    return [(PLAN_WIDE, None), *((int(r.id), str(r.code)) for r in rounds)]


def _rows(report: CompiledReport, round_key: int, now: datetime) -> list[dict[str, Any]]:
    data = report.data
    agencies = data.agencies
    rows: list[dict[str, Any]] = []
    for area in report.areas:
        for result in area.tasks:
            for evaluation in (*result.leads, *result.coordinators):
                agency = agencies[evaluation.agency_id]
                latest = evaluation.report
                rows.append(
                    {
                        "round_key": round_key,
                        "task_id": evaluation.task_id,
                        "agency_id": evaluation.agency_id,
                        "plan_id": data.plan.id,
                        "area_id": area.area.id,
                        "agency_code": agency.code,
                        "agency_kind": agency.kind,
                        "lead": evaluation.lead,
                        "verdict": evaluation.verdict.value,
                        "deadline": evaluation.deadline,
                        "extended_from": (
                            (evaluation.extension.original or result.deadline)
                            if evaluation.extension is not None
                            else None
                        ),
                        "days_overdue": evaluation.days_overdue,
                        "report_id": latest.id if latest else None,
                        "reported_at": latest.submitted_at if latest else None,
                        "done_at": evaluation.done_at,
                        "as_of": data.as_of,
                        "refreshed_at": now,
                    }
                )
    return rows


def _store(
    session: Session, scope: Scope, round_key: int, plan_id: int, tz: tzinfo, now: datetime
) -> int:
    """Recompute one whole view (plan-wide or a round) and count it again."""
    report = evaluate(load_report_data(session, scope, tz, now), tz)
    _bump(session, plan_id, now)
    connection = session.connection()
    connection.execute(delete(_TABLE).where(E.round_key == round_key, E.plan_id == plan_id))
    rows = _rows(report, round_key, now)
    for start in range(0, len(rows), 20_000):
        connection.execute(insert(_TABLE), rows[start : start + 20_000])
    connection.execute(delete(_TALLY).where(T.round_key == round_key, T.plan_id == plan_id))
    reported = E.report_id.is_not(None)
    connection.execute(
        insert(_TALLY).from_select(
            [
                "round_key",
                "task_id",
                "lead",
                "agency_kind",
                "verdict",
                "reported",
                "plan_id",
                "area_id",
                "pairs",
            ],
            select(
                E.round_key,
                E.task_id,
                E.lead,
                E.agency_kind,
                E.verdict,
                reported,
                func.min(E.plan_id),
                func.min(E.area_id),
                func.count(),
            )
            .where(E.round_key == round_key, E.plan_id == plan_id)
            .group_by(E.round_key, E.task_id, E.lead, E.agency_kind, E.verdict, reported),
        )
    )
    return len(rows)


def _bump(session: Session, plan_id: int, now: datetime) -> None:
    """A new generation of the plan's evaluations (cached sums are dropped). Taken first in
    every write, so concurrent writers of one plan queue here rather than deadlock on counts."""
    row = session.get(EvaluationGeneration, plan_id, with_for_update=True)
    if row is None:
        session.add(EvaluationGeneration(plan_id=plan_id, generation=1, refreshed_at=now))
    else:
        row.generation += 1
        row.refreshed_at = now
    session.flush()


def generation(session: Session, plan_id: int) -> int:
    found = session.get(EvaluationGeneration, plan_id)
    return found.generation if found is not None else 0


_SUMS: OrderedDict[tuple[Any, ...], CompiledReport] = OrderedDict()
_SUMS_KEPT = 64


def refresh_all(session: Session, tz: tzinfo, now: datetime) -> int:
    """Recompute every plan's stored evaluations (the daily job; after imports): plan-wide and
    open rounds. Closed rounds' views are dropped, to be stored again when asked for — a
    monthly round a year makes twelve views, and their days overdue still move daily."""
    written = 0
    for plan_id, code in session.execute(select(Plan.id, Plan.code)).all():
        _bump(session, plan_id, now)  # first, as every writer of the plan's evaluations
        views = _views(session, plan_id)
        keep = [key for key, _code in views]
        connection = session.connection()
        connection.execute(delete(_TABLE).where(E.plan_id == plan_id, E.round_key.not_in(keep)))
        connection.execute(delete(_TALLY).where(T.plan_id == plan_id, T.round_key.not_in(keep)))
        for round_key, round_code in views:
            scope = Scope(plan_code=code, round_code=round_code)
            written += _store(session, scope, round_key, plan_id, tz, now)
    if session.get_bind().dialect.name == "postgresql":
        # the table was just rewritten: without fresh statistics the planner guesses badly
        session.execute(text("ANALYZE assignment_evaluation"))
    return written


def forget_all(session: Session, now: datetime) -> None:
    """Drop every stored evaluation, after a change to many pairs at once (a plan imported
    again, demo reports added or removed): the first page needing a view stores it again
    (`ensure_stored`), the daily job the rest. Cheaper for an import than recomputing now."""
    connection = session.connection()
    for plan_id in session.execute(select(Plan.id)).scalars():
        _bump(session, plan_id, now)
    connection.execute(delete(_TABLE))
    connection.execute(delete(_TALLY))


def ensure_stored(session: Session, view: View, tz: tzinfo, now: datetime) -> bool:
    """Store `view` now if it is not stored for today: a round opened since the day's refresh,
    or a closed round (kept only on demand). True when it was computed (seconds nationwide,
    once a day; a province's plan takes a fraction of a second)."""
    where = (T.round_key == view.round_key, T.plan_id == view.plan.id)
    if session.execute(select(T.task_id).where(*where).limit(1)).first() is not None:
        if view.round_key == PLAN_WIDE or _is_open(session, view.round_key):
            return False  # kept by the daily job and every report
        if stored_as_of(session, view) == now.astimezone(tz).date():
            return False
    round_code = view.round.code if view.round is not None else None
    scope = Scope(plan_code=view.plan.code, round_code=round_code)
    _store(session, scope, view.round_key, view.plan.id, tz, now)
    return True


def _is_open(session: Session, round_id: int) -> bool:
    status = session.execute(
        select(ReportingRound.status).where(ReportingRound.id == round_id)
    ).scalar_one_or_none()
    return status == "open"


_KEPT = (
    "lead",
    "agency_kind",
    "verdict",
    "deadline",
    "days_overdue",
    "report_id",
    "reported_at",
    "done_at",
    "as_of",
    "area_id",
    "agency_code",
    "extended_from",
)
_PAIR = (E.task_id == bindparam("b_task"), E.agency_id == bindparam("b_agency"))
# Built once: a report's transaction runs these, and building a statement costs more than
# running it. They are `load_report_data`'s queries narrowed to one pair.
_PAIR_FACTS = (
    select(
        Assignment.role,
        Task.ref,
        Task.area_id,
        Task.position,
        Task.title,
        Task.schedule,
        Task.rule_kind,
        Task.due_date,
        Task.expected_output,
        Task.lead_text,
        Task.coordinating_text,
        Task.plan_id,
        Agency.code,
        Agency.kind,
    )
    .join(Task, Task.id == Assignment.task_id)
    .join(Agency, Agency.id == Assignment.agency_id)
    .where(Assignment.task_id == bindparam("b_task"), Assignment.agency_id == bindparam("b_agency"))
)
_PAIR_STORED = (
    select(
        E.round_key,
        *(getattr(E, name) for name in _KEPT),
        ReportingRound.code,
        ReportingRound.title,
        ReportingRound.deadline,
    )
    .outerjoin(ReportingRound, ReportingRound.id == E.round_key)
    .where(*_PAIR)
)
_PAIR_REPORTS = (
    select(
        StatusReport.id,
        StatusReport.version,
        StatusReport.status,
        StatusReport.submitted_at,
        StatusReport.round_id,
        ReportingRound.code,
        StatusReport.review,  # a returned report is not done (core.review)
    )
    .outerjoin(ReportingRound, ReportingRound.id == StatusReport.round_id)
    .where(
        StatusReport.task_id == bindparam("b_task"),
        StatusReport.agency_id == bindparam("b_agency"),
        StatusReport.submitted_at < bindparam("b_cutoff"),
    )
)
_WRITTEN: tuple[str, ...] = (
    "verdict",
    "deadline",
    "days_overdue",
    "report_id",
    "reported_at",
    "done_at",
)
_WRITTEN += ("as_of", "lead", "refreshed_at", "extended_from")
_PAIR_UPDATE = (
    update(_TABLE)
    .where(E.round_key == bindparam("b_round"), *_PAIR)
    .values({name: bindparam(f"v_{name}") for name in _WRITTEN})
)
_BUMP = (
    update(EvaluationGeneration.__table__)
    .where(EvaluationGeneration.plan_id == bindparam("b_plan"))
    .values(generation=EvaluationGeneration.generation + 1, refreshed_at=bindparam("b_now"))
)
_TALLY_KEY = (
    T.round_key == bindparam("b_round"),
    T.task_id == bindparam("b_task"),
    T.lead == bindparam("b_lead"),
    T.agency_kind == bindparam("b_kind"),
    T.verdict == bindparam("b_verdict"),
    T.reported == bindparam("b_reported"),
)
_TALLY_MOVE = update(_TALLY).where(*_TALLY_KEY).values(pairs=T.pairs + bindparam("b_step"))


def refresh_assignment(
    session: Session, task_id: int, agency_id: int, tz: tzinfo, now: datetime
) -> int:
    """Bring one assignment's stored evaluation up to date in every stored view that holds it,
    in the caller's transaction: what a report, a review of a report or a changed deadline of
    (task, agency) calls. Which views hold a pair is settled when a view is stored (plan-wide:
    every assignment; a round: its audience) and none of these changes moves it.

    The pair is judged by `core.evaluation.evaluate`, as every report is, on the data
    `load_report_data` would give for it — its assignment, and its reports up to the end of
    today (a round's view: that round's reports and deadline) — read with three prepared
    statements, so a report's transaction pays ~1 ms, not a recompile of the agency (~0.1 s
    inside SQLite's write lock made chat p95 seconds). Keep `_PAIR_REPORTS` in step with
    `load_report_data`'s report filter; the tests compare both. A view whose row comes out
    the same is not written. Rows written."""
    connection = session.connection()
    params = {"b_task": task_id, "b_agency": agency_id}
    stored: Any = connection.execute(_PAIR_STORED, params).all()
    if not stored:
        return 0  # no stored view holds the pair (or nothing is stored yet)
    facts: Any = connection.execute(_PAIR_FACTS, params).all()
    if not facts:
        return 0  # no longer assigned: the next full refresh drops it
    first = facts[0]
    lead = any(row[0] == AssignmentRole.LEAD.value for row in facts)
    plan_id = int(first[11])
    as_of = now.astimezone(tz).date()
    reports = [
        ReportInfo(
            int(r[0]),
            "",
            task_id,
            agency_id,
            r[5],
            "",
            r[1],
            r[2],
            "",
            None,
            "",
            _utc(r[3]),
            (),
            r[6],
        )
        for r in connection.execute(_PAIR_REPORTS, {**params, "b_cutoff": day_end_utc(as_of, tz)})
    ]  # fields no verdict reads are left empty: only the stored row is built from these
    task = TaskInfo(task_id, *first[1:11])
    agency = AgencyInfo(agency_id, first[12], "", first[13])
    base = ReportData(
        PlanInfo(plan_id, "", "", 0, ""),
        None,
        Scope(),
        as_of,
        now,
        [AreaInfo(task.area_id, "", "", 0)],
        [task],
        {agency_id: agency},
        {task_id: [agency_id]} if lead else {},
        {} if lead else {task_id: [agency_id]},
        reports,
        # an approved extension moves the pair's deadline (few rows: read as the loader does)
        extensions=approved(session, [task_id], [agency_id]),
    )
    if connection.execute(_BUMP, {"b_plan": plan_id, "b_now": now}).rowcount == 0:
        _bump(session, plan_id, now)
    written = 0
    for row in stored:
        round_key, old, round_code = row[0], tuple(row[1 : 1 + len(_KEPT)]), row[-3]
        data = base
        if round_key != PLAN_WIDE:
            data = replace(
                base,
                round=RoundInfo(round_key, round_code, row[-2], row[-1]),
                reports=[r for r in reports if r.round_code == round_code],
            )
        [new] = _rows(evaluate(data, tz), round_key, now)
        if tuple(new[name] for name in _KEPT) == old:
            continue  # the same as stored: nothing to write, nothing to count
        values = {f"v_{name}": new[name] for name in _WRITTEN}
        connection.execute(_PAIR_UPDATE, {**params, **values, "b_round": round_key})
        before = (old[0], old[1], old[2], old[5] is not None)
        after = (new["lead"], new["agency_kind"], new["verdict"], new["report_id"] is not None)
        if before != after:
            _count(connection, round_key, plan_id, task_id, (*before, old[9]), -1)
            _count(connection, round_key, plan_id, task_id, (*after, new["area_id"]), 1)
        written += 1
    return written


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _count(
    connection: Connection,
    round_key: int,
    plan_id: int,
    task_id: int,
    pair: tuple[Any, ...],
    step: int,
) -> None:
    """Move one pair in or out of its view's counts (`assignment_evaluation_tally`); a count
    that falls to 0 stays as a row of 0 (readers skip it), which saves a statement."""
    lead, kind, verdict, reported, area_id = pair
    key = {
        "b_round": round_key,
        "b_task": task_id,
        "b_lead": bool(lead),
        "b_kind": kind,
        "b_verdict": verdict,
        "b_reported": bool(reported),
    }
    moved = connection.execute(_TALLY_MOVE, {**key, "b_step": step})
    if moved.rowcount == 0 and step > 0:
        connection.execute(
            insert(_TALLY).values(
                round_key=round_key,
                task_id=task_id,
                lead=bool(lead),
                agency_kind=kind,
                verdict=verdict,
                reported=bool(reported),
                plan_id=plan_id,
                area_id=area_id,
                pairs=step,
            )
        )


def refresh_after_report(
    session: Session, task_id: int, agency_id: int, tz: tzinfo, now: datetime
) -> int:
    """After a report on (task, agency), in its transaction: `refresh_assignment`."""
    return refresh_assignment(session, task_id, agency_id, tz, now)


@dataclass(frozen=True, slots=True)
class View:
    """What a page shows: a plan, optionally a round, narrowed like a report `Scope`."""

    plan: PlanInfo
    round: RoundInfo | None
    round_key: int
    area_id: int | None = None
    agency_kind: str | None = None
    agency_id: int | None = None
    verdict: str | None = None  # the matrix's status filter


def view_for(session: Session, scope: Scope, verdict: str | None = None) -> View:
    """Resolve a report scope (codes) into ids; raises `LookupError` naming what is unknown."""
    plan_q = select(Plan)
    plan_q = (
        plan_q.where(Plan.code == scope.plan_code)
        if scope.plan_code
        else plan_q.order_by(Plan.id.desc())
    )
    plan = session.execute(plan_q).scalars().first()
    if plan is None or plan.id is None:
        raise LookupError("plan")
    round_info, round_key = None, PLAN_WIDE
    if scope.round_code:
        found = session.execute(
            select(ReportingRound).where(ReportingRound.code == scope.round_code)
        ).scalar_one_or_none()
        if found is None or found.id is None:
            raise LookupError("round")
        round_info = RoundInfo(found.id, found.code, found.title, found.deadline)
        round_key = found.id
    area_id = None
    if scope.area_code:
        area_id = session.execute(
            select(Area.id).where(Area.plan_id == plan.id, Area.code == scope.area_code.upper())
        ).scalar_one_or_none()
        if area_id is None:
            raise LookupError("area")
    agency_id = None
    if scope.agency_code:
        agency_id = session.execute(
            select(Agency.id).where(Agency.code == scope.agency_code)
        ).scalar_one_or_none()
        if agency_id is None:
            raise LookupError("agency")
    if verdict is not None and verdict not in {v.value for v in Verdict}:
        raise LookupError("status")
    plan_info = PlanInfo(plan.id, plan.code, plan.title, plan.year, plan.issuer, plan.issued_on)
    return View(plan_info, round_info, round_key, area_id, scope.agency_kind, agency_id, verdict)


def _where(view: View, with_verdict: bool = False) -> list[Any]:
    where: list[Any] = [E.round_key == view.round_key, E.plan_id == view.plan.id]
    if view.area_id is not None:
        where.append(E.area_id == view.area_id)
    if view.agency_kind:
        where.append(E.agency_kind == view.agency_kind)
    if view.agency_id is not None:
        where.append(E.agency_id == view.agency_id)
    if with_verdict and view.verdict:
        where.append(E.verdict == view.verdict)
    return where


def _task_word(counts: dict[Verdict, int]) -> Verdict:
    """core.evaluation.task_verdict over one stand-in pair per verdict present: the verdict
    set (and whether anything was reported) is all that rule reads."""
    stand_ins = [
        Evaluation(0, 0, True, v, None, None if v is Verdict.NOT_REPORTED else _REPORTED, None, 0)
        for v, n in counts.items()
        if n
    ]
    return task_verdict(stand_ins)


_VERDICTS = {v.value: v for v in Verdict}
_REPORTED: Any = object()  # "a report exists" for the stand-in pairs above


def summary(session: Session, view: View, as_of: date, now: datetime) -> CompiledReport:
    """The stored verdicts added up the way `core.evaluation.evaluate` adds them; reused while
    the plan's evaluation generation has not moved (treat the result as read-only)."""
    bind = session.get_bind()
    database = bind.engine.url if isinstance(bind, Connection) else bind.url
    key = (str(database), view, as_of, generation(session, view.plan.id))
    cached = _SUMS.get(key)
    if cached is not None:
        _SUMS.move_to_end(key)
        return cached
    report = _summary(session, view, as_of, now)
    _SUMS[key] = report
    while len(_SUMS) > _SUMS_KEPT:
        _SUMS.popitem(last=False)
    return report


def _summary(session: Session, view: View, as_of: date, now: datetime) -> CompiledReport:
    """`core.evaluation.evaluate`'s counting over stored verdicts: lead figures from lead
    pairs only, in every scope; a task the scope only coordinates counts in the coordinated
    tallies, never in the lead ones (the rule behind "51 vs 33", issue 9)."""
    rows: Any
    if view.agency_id is None:  # the view's counts, kept with every write
        counted = [T.round_key == view.round_key, T.plan_id == view.plan.id, T.pairs > 0]
        if view.area_id is not None:
            counted.append(T.area_id == view.area_id)
        if view.agency_kind:
            counted.append(T.agency_kind == view.agency_kind)
        rows = (
            session.connection()  # Core rows: a nationwide view holds a few thousand counts
            .execute(
                select(
                    T.task_id, T.area_id, T.lead, T.agency_kind, T.verdict, T.reported, T.pairs
                ).where(*counted)
            )
            .all()
        )
    else:  # one agency: its few dozen stored pairs
        reported_col = E.report_id.is_not(None)
        rows = session.execute(
            select(
                E.task_id, E.area_id, E.lead, E.agency_kind, E.verdict, reported_col, func.count()
            )
            .where(*_where(view))
            .group_by(E.task_id, E.area_id, E.lead, E.agency_kind, E.verdict, reported_col)
        ).all()
    has_lead = {r[0] for r in rows if r[2]}
    # per task: verdict → (pairs, pairs that reported), over the pairs responsible for it
    per_task: dict[int, dict[Verdict, list[int]]] = defaultdict(dict)
    task_area: dict[int, int] = {}
    by_kind: dict[str, Tally] = defaultdict(Tally)
    area_pairs: dict[int, Tally] = defaultdict(Tally)
    area_coordinating: dict[int, Tally] = defaultdict(Tally)
    agency_tally, coordinating_tally = Tally(), Tally()
    for task_id, area_id, lead, kind, verdict, reported, n in rows:
        word, done = _VERDICTS[verdict], n if reported else 0
        task_area[task_id] = area_id
        if not lead:
            coordinating_tally.add(word, n, done)
            area_coordinating[area_id].add(word, n, done)
        if bool(lead) != (task_id in has_lead):
            continue  # coordinating pairs decide a task only when no lead is in scope
        slot = per_task[task_id].setdefault(word, [0, 0])
        slot[0] += n
        slot[1] += done
        if lead:
            by_kind[kind].add(word, n, done)
            area_pairs[area_id].add(word, n, done)
            agency_tally.add(word, n, done)
    area_tasks: dict[int, Tally] = defaultdict(Tally)
    area_coordinated: dict[int, Tally] = defaultdict(Tally)
    task_tally, coordinated_tally = Tally(), Tally()
    for task_id, counts in per_task.items():
        word = _task_word({v: c[0] for v, c in counts.items()})
        overdue_reported = counts.get(Verdict.OVERDUE, [0, 0])[1] > 0
        if task_id in has_lead:
            area_tasks[task_area[task_id]].add(word, 1, overdue_reported)
            task_tally.add(word, 1, overdue_reported)
        else:
            area_coordinated[task_area[task_id]].add(word, 1, overdue_reported)
            coordinated_tally.add(word, 1, overdue_reported)
    areas = [
        AreaInfo(a.id, a.code, a.title, a.position)
        for a in session.execute(
            select(Area).where(Area.plan_id == view.plan.id).order_by(Area.position)
        ).scalars()
    ]
    data = ReportData(view.plan, view.round, Scope(), as_of, now, areas, [], {}, {}, {}, [])
    results = [
        AreaResult(
            area,
            [],
            area_tasks[area.id],
            area_pairs[area.id],
            area_coordinated[area.id],
            area_coordinating[area.id],
        )
        for area in areas
        if area.id in area_tasks or area.id in area_coordinated
    ]
    kinds = {kind: by_kind[kind] for kind in sorted(by_kind, key=kind_order)}
    return CompiledReport(
        data,
        results,
        task_tally,
        agency_tally,
        kinds,
        [],
        coordinated_tally,
        coordinating_tally,
    )


class Cell(NamedTuple):
    """One stored pair on the matrix (a tuple: a page builds ~1,750 of them)."""

    verdict: str
    lead: bool
    days_overdue: int
    report_id: int | None


@dataclass
class MatrixPage:
    """One page of agencies (rows) × the view's tasks (columns)."""

    tasks: list[tuple[int, str, str]]  # (id, ref, title)
    agencies: list[AgencyInfo]
    cells: dict[tuple[int, int], Cell]  # (agency_id, task_id)
    total_agencies: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total_agencies // self.per_page))


def matrix(session: Session, view: View, page: int = 1, per_page: int = 25) -> MatrixPage:
    """Agencies with at least one pair in the view (and status), by code, one page of them."""
    # Paged over the agency table (a few thousand rows), each agency kept when it has a pair
    # in the view: an indexed EXISTS probe (round_key, plan_id, agency_code…), so a late page
    # costs no more than the first — grouping 350,000 evaluations per request did.
    probe = [E.round_key == view.round_key, E.plan_id == view.plan.id, E.agency_code == Agency.code]
    if view.area_id is not None:
        probe.append(E.area_id == view.area_id)
    if view.verdict:
        probe.append(E.verdict == view.verdict)
    agency_where: list[Any] = [select(E.task_id).where(*probe).exists()]
    if view.agency_kind:
        agency_where.append(Agency.kind == view.agency_kind)
    if view.agency_id is not None:
        agency_where.append(Agency.id == view.agency_id)
    total = session.execute(select(func.count()).select_from(Agency).where(*agency_where)).scalar()
    page = max(1, page)
    codes = (
        session.execute(
            select(Agency.id)
            .where(*agency_where)
            .order_by(Agency.code)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    ids = list(codes)
    cells: dict[tuple[int, int], Cell] = {}
    if ids:
        cell_where = [*_where(view, with_verdict=True), E.agency_id.in_(ids)]
        for row in session.connection().execute(  # Core rows: no ORM bookkeeping per cell
            select(E.agency_id, E.task_id, E.verdict, E.lead, E.days_overdue, E.report_id).where(
                *cell_where
            )
        ):
            cells[(row[0], row[1])] = Cell(row[2], bool(row[3]), row[4], row[5])
    task_ids = {t for _a, t in cells}
    task_q = select(Task.id, Task.ref, Task.title).where(Task.plan_id == view.plan.id)
    if view.area_id is not None:
        task_q = task_q.where(Task.area_id == view.area_id)
    tasks = [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in session.execute(task_q.order_by(Task.position))
        if r[0] in task_ids
    ]
    agencies = {
        r.id: AgencyInfo(r.id, r.code, r.name, r.kind)
        for r in session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.kind).where(Agency.id.in_(ids))
        )
    }
    ordered = [agencies[i] for i in ids if i in agencies]
    return MatrixPage(tasks, ordered, cells, int(total or 0), page, per_page)


def agency_evaluations(session: Session, view: View, agency_id: int) -> list[Any]:
    """One agency's stored pairs in the view, in task order (for the *Cơ quan* page)."""
    return list(
        session.execute(
            select(
                Task.id,
                Task.ref,
                Task.title,
                E.lead,
                E.verdict,
                E.deadline,
                E.days_overdue,
                E.reported_at,
                E.extended_from,
            )
            .join(Task, Task.id == E.task_id)
            .where(
                E.round_key == view.round_key, E.plan_id == view.plan.id, E.agency_id == agency_id
            )
            .order_by(Task.position)
        ).all()
    )


def unreported(session: Session, view: View, limit: int = 500) -> list[Any]:
    """Agencies with pairs in the view that have no report yet: (id, code, name, pairs)."""
    return list(
        session.execute(
            select(Agency.id, Agency.code, Agency.name, func.count())
            .select_from(E)
            .join(Agency, Agency.id == E.agency_id)
            .where(*_where(view), E.report_id.is_(None))
            .group_by(Agency.id, Agency.code, Agency.name)
            .order_by(Agency.code)
            .limit(limit)
        ).all()
    )


def stored_as_of(session: Session, view: View) -> date | None:
    """The date the view's evaluations were computed for (one indexed row, not a scan)."""
    return session.execute(
        select(E.as_of)
        .where(E.round_key == view.round_key, E.plan_id == view.plan.id)
        .order_by(E.round_key, E.plan_id, E.agency_code)
        .limit(1)
    ).scalar()
