"""How a task stands, in the five words officials use.

The rules, applied to one agency on one task ("a pair") as of a date:

* **Deadline.** With a reporting round chosen, the round's deadline; otherwise the task's
  due date. Tasks with no date (recurring "Thường xuyên", external schedules a coordinator has
  not dated yet) have no deadline and are never late: they are in progress or done.
* **Extensions (gia hạn).** An approved extension moves one agency's deadline on one task to
  its new date (never earlier than the deadline it replaces); that pair is judged against it
  in every view, and the evaluation carries the extension so views can say so.
* **Which reports count.** Versions submitted up to the end of the "as of" day (local time);
  with a round chosen, only that round's reports. The latest version is the agency's answer.
* **Hoàn thành đúng hạn / quá hạn.** The latest version says done. The completion date is
  the *first* version of the unbroken run of "done" versions that ends in the latest one —
  correcting a typo in a done report after the deadline does not make the work late. Sent
  on or before the deadline day (local time, up to 23:59:59) is on time.
* **Đang thực hiện trong hạn.** A report that is not "done" (not started, in progress,
  blocked) while the deadline has not passed, or the task has none.
* **Quá hạn chưa hoàn thành.** The "as of" date is after the deadline and the work is not
  reported done — whether the agency reported progress or nothing at all: without a report
  there is no evidence of completion. `Evaluation.report is None` tells the two apart.
* **Chưa báo cáo.** No report yet and nothing is overdue (still within the deadline, or no
  deadline).

Counting. A task is the responsibility of its lead agencies (cơ quan chủ trì): the task's
verdict and every count are over lead pairs, in every scope — so Sở Tư pháp's own view and
the whole plan's view give Sở Tư pháp the same figures. Coordinating assignments (phối hợp)
are counted apart and labelled as such: a task the scope only coordinates (e.g. a commune
viewing its own part) gets a verdict over its coordinating pairs in scope, for display, and
goes into `coordinated_tally`, never into the lead figures. (Before this rule, coordinating
pairs stood in for missing leads inside the lead figures, and an agency's own view counted
its coordinating tasks as overdue while the coordinator's view did not: 51 against 33.)

Review (core.review). A report a coordinator returned («Trả lại») is not done, whatever it
says: it is judged like a report that is not "done" and breaks the run of "done" versions. A
report still chờ duyệt counts by what it says, provisionally (`CompiledReport.review_tally`
says how many "done" still wait); an accepted one keeps its submission time.

A task's verdict over its responsible pairs: all done → done on time (done late if any was
late); otherwise any overdue → overdue; otherwise any report → in progress; otherwise not
reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import attrgetter

from core.model import AgencyKind, ReportStatus
from core.report_model import (
    REVIEW_KEYS,
    AreaResult,
    CompiledReport,
    DocumentRoundResult,
    Evaluation,
    ExtensionInfo,
    LateAgency,
    ReportData,
    ReportInfo,
    RoundInfo,
    Tally,
    TaskInfo,
    TaskResult,
    Verdict,
)
from core.round_documents import document_rows

DONE = ReportStatus.DONE.value
_RETURNED = "returned"  # core.review.ReviewStatus.RETURNED: a returned report is not done
_PENDING = "pending"
# Enum members read in the per-pair hot path: a class attribute lookup on an Enum costs a
# descriptor call each time (≈ 1 µs), which adds up to seconds over 350,000 pairs.
_DONE_ON_TIME, _DONE_LATE = Verdict.DONE_ON_TIME, Verdict.DONE_LATE
_IN_PROGRESS, _OVERDUE, _NOT_REPORTED = Verdict.IN_PROGRESS, Verdict.OVERDUE, Verdict.NOT_REPORTED


def deadline_for(task: TaskInfo, round_: RoundInfo | None) -> date | None:
    """The date a pair is judged against (see the module rules)."""
    if round_ is not None:
        return round_.deadline
    return task.due_date


def extended(deadline: date | None, extension: ExtensionInfo) -> date:
    """The pair's deadline with an approved extension: its new date, or the deadline it would
    otherwise have if that is later (a round's deadline after the extended date)."""
    if deadline is None:
        return extension.new_date
    return max(deadline, extension.new_date)


@dataclass(frozen=True, slots=True)
class Window:
    """A deadline seen from the "as of" date, computed once per task, not once per pair.

    `ends` is the first instant after the deadline day in the local time zone (aware UTC): a
    "done" submitted before it is on time, so no per-report time-zone conversion is needed.
    """

    deadline: date | None
    ends: datetime | None
    overdue_days: int  # days the "as of" date is past the deadline (0: not past)


def window(deadline: date | None, as_of: date, tz: tzinfo) -> Window:
    if deadline is None:
        return Window(None, None, 0)
    ends = datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return Window(deadline, ends, max((as_of - deadline).days, 0))


def judge(
    latest: ReportInfo | None, done_since: ReportInfo | None, due: Window
) -> tuple[Verdict, datetime | None, int]:
    """(verdict, when the work was reported done, days overdue) for one pair.

    `done_since` is the first version of the run of "done" versions ending in `latest`
    (None when the latest is not done).
    """
    if latest is None:
        return (_OVERDUE if due.overdue_days else _NOT_REPORTED), None, (due.overdue_days)
    if latest.status == DONE and latest.review != _RETURNED:
        done_at = (done_since or latest).submitted_at
        late = due.ends is not None and done_at >= due.ends
        return (_DONE_LATE if late else _DONE_ON_TIME), done_at, 0
    if due.overdue_days:
        return _OVERDUE, None, due.overdue_days
    return _IN_PROGRESS, None, 0


def task_verdict(pairs: list[Evaluation]) -> Verdict:
    """The task's word from its responsible pairs (rule in the module docstring)."""
    if not pairs:
        return Verdict.NOT_REPORTED
    verdicts = {p.verdict for p in pairs}
    if verdicts <= {Verdict.DONE_ON_TIME, Verdict.DONE_LATE}:
        return Verdict.DONE_LATE if Verdict.DONE_LATE in verdicts else Verdict.DONE_ON_TIME
    if Verdict.OVERDUE in verdicts:
        return Verdict.OVERDUE
    if any(p.report is not None for p in pairs):
        return Verdict.IN_PROGRESS
    return Verdict.NOT_REPORTED


def _latest_per_pair(
    reports: list[ReportInfo],
) -> tuple[dict[tuple[int, int], tuple[ReportInfo, ReportInfo | None]], dict[int, int]]:
    """(task, agency) → (latest, first of the trailing "done" run); versions per task."""
    ordered = sorted(reports, key=attrgetter("task_id", "agency_id", "submitted_at", "version"))
    latest: dict[tuple[int, int], tuple[ReportInfo, ReportInfo | None]] = {}
    versions: dict[int, int] = defaultdict(int)
    for report in ordered:
        key = (report.task_id, report.agency_id)
        versions[report.task_id] += 1
        previous = latest.get(key)
        if report.status != DONE or report.review == _RETURNED:
            latest[key] = (report, None)
        elif previous is not None and previous[1] is not None:
            latest[key] = (report, previous[1])
        else:
            latest[key] = (report, report)
    return latest, versions


def kind_order(kind: str) -> tuple[int, str]:
    kinds = [k.value for k in AgencyKind]
    return (kinds.index(kind), kind) if kind in kinds else (len(kinds), kind)


def evaluate(data: ReportData, tz: tzinfo) -> CompiledReport:
    """Judge every pair in `data` and add up tasks, areas, kinds of agency and late agencies."""
    latest, versions = _latest_per_pair(data.reports)
    as_of = data.as_of
    kinds = {agency_id: agency.kind for agency_id, agency in data.agencies.items()}

    extensions = data.extensions

    def pair(task: TaskInfo, due: Window, agency_id: int, lead: bool) -> Evaluation:
        found = latest.get((task.id, agency_id))
        report, done_since = found if found else (None, None)
        extension = extensions.get((task.id, agency_id)) if extensions else None
        if extension is not None:
            due = window(extended(due.deadline, extension), as_of, tz)
        verdict, done_at, days = judge(report, done_since, due)
        return Evaluation(
            task.id, agency_id, lead, verdict, due.deadline, report, done_at, days, extension
        )

    tasks_by_area: dict[int, list[TaskResult]] = defaultdict(list)
    agency_tally, task_tally = Tally(), Tally()
    coordinated_tally, coordinating_tally = Tally(), Tally()
    by_kind: dict[str, Tally] = defaultdict(Tally)
    late: dict[int, list[Evaluation]] = defaultdict(list)
    reviews = dict.fromkeys(REVIEW_KEYS, 0)
    for task in sorted(data.tasks, key=lambda t: t.position):
        deadline = deadline_for(task, data.round)
        due = window(deadline, as_of, tz)
        leads = [pair(task, due, a, True) for a in data.leads.get(task.id, [])]
        coordinators = [pair(task, due, a, False) for a in data.coordinators.get(task.id, [])]
        responsible = leads or coordinators
        tally = Tally()
        for evaluation in responsible:
            tally.add(evaluation.verdict, 1, evaluation.report is not None)
        for evaluation in leads:
            verdict_ = evaluation.verdict
            by_kind[kinds[evaluation.agency_id]].add(verdict_, 1, evaluation.report is not None)
            if verdict_ is _OVERDUE:
                late[evaluation.agency_id].append(evaluation)
            if evaluation.report is not None:
                review = evaluation.report.review
                reviews[review] = reviews.get(review, 0) + 1
                if review == _PENDING and evaluation.done_at is not None:
                    reviews["done_pending"] += 1
        for evaluation in coordinators:
            coordinating_tally.add(evaluation.verdict, 1, evaluation.report is not None)
        reported = sum(1 for e in leads + coordinators if e.report is not None)
        verdict = task_verdict(responsible)
        overdue_reported = any(e.verdict is _OVERDUE and e.report is not None for e in responsible)
        if leads:
            task_tally.add(verdict, 1, overdue_reported)
            agency_tally.merge(tally)
        else:
            coordinated_tally.add(verdict, 1, overdue_reported)
        tasks_by_area[task.area_id].append(
            TaskResult(
                task,
                verdict,
                deadline,
                leads,
                coordinators,
                tally,
                reported,
                versions.get(task.id, 0),
            )
        )

    areas: list[AreaResult] = []
    for area in sorted(data.areas, key=lambda a: a.position):
        results = tasks_by_area.get(area.id)
        if not results:
            continue
        area_tasks, area_pairs, area_coordinated, area_coordinating = (
            Tally(),
            Tally(),
            Tally(),
            Tally(),
        )
        for result in results:
            overdue_reported = any(
                e.verdict is _OVERDUE and e.report is not None
                for e in result.leads or result.coordinators
            )
            if result.leads:
                area_tasks.add(result.verdict, 1, overdue_reported)
                area_pairs.merge(result.tally)
            else:
                area_coordinated.add(result.verdict, 1, overdue_reported)
            for evaluation in result.coordinators:
                area_coordinating.add(evaluation.verdict, 1, evaluation.report is not None)
        areas.append(
            AreaResult(area, results, area_tasks, area_pairs, area_coordinated, area_coordinating)
        )

    late_agencies = sorted(
        (
            LateAgency(
                data.agencies[agency_id],
                overdue=len(items),
                not_reported=sum(1 for e in items if e.report is None),
                max_days=max(e.days_overdue for e in items),
            )
            for agency_id, items in late.items()
        ),
        key=lambda la: (-la.overdue, -la.max_days, la.agency.code),
    )
    kind_tallies = {kind: by_kind[kind] for kind in sorted(by_kind, key=kind_order)}
    return CompiledReport(
        data,
        areas,
        task_tally,
        agency_tally,
        kind_tallies,
        late_agencies,
        coordinated_tally,
        coordinating_tally,
        reviews,
        documents=[
            DocumentRoundResult(r, *document_rows(r, data.as_of, tz)) for r in data.documents
        ],
    )


@dataclass(frozen=True, slots=True)
class AgencyTask:
    """One task of one agency as `/nhiemvu` shows it: the agency's own pair, judged by the
    same `evaluate` as every other view, and whether the agency leads or coordinates it."""

    result: TaskResult
    evaluation: Evaluation
    as_of: date

    @property
    def lead(self) -> bool:
        return self.evaluation.lead

    @property
    def days_left(self) -> int | None:
        """Days from the "as of" date to the deadline (None: no deadline or already done)."""
        deadline = self.evaluation.deadline
        if deadline is None or self.evaluation.verdict in (_DONE_ON_TIME, _DONE_LATE):
            return None
        return (deadline - self.as_of).days


def agency_tasks(report: CompiledReport, agency_id: int) -> list[AgencyTask]:
    """The agency's tasks, most urgent first: overdue (longest first), then open tasks by
    deadline (nearest first), then tasks without a deadline, then done ones; appendix order
    within each."""
    items: list[AgencyTask] = []
    for result in report.tasks:
        mine = next(
            (e for e in result.leads + result.coordinators if e.agency_id == agency_id), None
        )
        if mine is not None:
            items.append(AgencyTask(result, mine, report.data.as_of))

    def rank(item: AgencyTask) -> tuple[int, int, int]:
        e, position = item.evaluation, item.result.task.position
        if e.verdict is _OVERDUE:
            return (0, -e.days_overdue, position)
        if e.verdict in (_DONE_ON_TIME, _DONE_LATE):
            return (3, 0, position)
        if e.deadline is None:
            return (2, 0, position)
        return (1, (e.deadline - report.data.as_of).days, position)

    return sorted(items, key=rank)
