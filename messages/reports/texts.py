"""A task's three prose cells (progress, results, difficulties), shared by every output.

The workbook's "Tổng hợp" sheet, the Word appendix and narrative and the Markdown export all
call these, so a task reads the same everywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from core.flows.targets import meets, primary_target, with_unit
from core.model import ReportStatus
from core.report_model import CompiledReport, Evaluation, ReportData, TaskResult, Verdict
from core.review import has_difficulty
from core.text import clean, nfc
from messages.render import render
from messages.reports.labels import status_label


def responsible(result: TaskResult) -> list[Evaluation]:
    """The pairs the task's counts are over: its leads, or its coordinators when none."""
    return result.leads or result.coordinators


def task_progress(result: TaskResult) -> str:
    pairs = responsible(result)
    counts = result.tally.counts
    single = pairs[0] if len(pairs) == 1 else None
    report = single.report if single else None
    return render(
        "report/task_progress.j2",
        total=len(pairs),
        single=single is not None,
        status=status_label(report.status) if report else "",
        reported_at=report.submitted_at if report else None,
        done_at=single.done_at if single else None,
        single_late=single is not None and single.verdict is Verdict.DONE_LATE,
        deadline=single.deadline if single else None,
        days_overdue=single.days_overdue if single else 0,
        extended_to=single.extension.new_date if single and single.extension else None,
        extended=sum(1 for e in pairs if e.extension is not None),
        done=result.tally.done,
        on_time=counts[Verdict.DONE_ON_TIME],
        late=counts[Verdict.DONE_LATE],
        in_progress=counts[Verdict.IN_PROGRESS],
        overdue=counts[Verdict.OVERDUE],
        overdue_silent=sum(1 for e in pairs if e.verdict is Verdict.OVERDUE and e.report is None),
        not_reported=counts[Verdict.NOT_REPORTED],
        # review (core.review): a returned report counts as not done; a pending one is said
        review=report.review if report else "",
        review_reason=report.review_reason if report else "",
        pending=sum(1 for e in pairs if e.report is not None and e.report.review == "pending"),
        returned=sum(1 for e in pairs if e.report is not None and e.report.review == "returned"),
    )


@dataclass(frozen=True)
class _Item:
    agency: str
    result: str
    figure: str  # with its unit: "3 hoạt động", "96%"; "" when none was asked
    below: bool  # reported done with a figure under the plan's target
    coordinating: bool


def _sentence(text: str) -> str:
    """A result as a sentence: a full stop at the end, so a figure can follow it."""
    text = clean(text)
    return text if not text or text[-1] in ".!?…;:" else text + "."


def task_results(result: TaskResult, data: ReportData, limit: int = 10) -> str:
    """Results of the latest reports: responsible agencies first (done ones first), then
    coordinating ones; `limit` shown, the rest counted (a nationwide task has thousands).

    A report "not started" states no result and is left out (the progress cell says it). The
    achieved figure follows the result as its own sentence, with the target's unit; a task
    reported done with a figure below its target says so and quotes the target once."""
    pairs = responsible(result)
    others = result.coordinators if result.leads else []
    done = [e for e in pairs if e.done_at is not None]
    rest = [e for e in pairs if e.report is not None and e.done_at is None]
    target = primary_target(result.task.expected_output)
    items: list[_Item] = []
    more = 0
    for group, coordinating in ((done, False), (rest, False), (others, True)):
        for evaluation in group:
            report = evaluation.report
            if report is None or not report.result.strip():
                continue
            if report.status == ReportStatus.NOT_STARTED.value:
                continue
            if len(items) < limit:
                agency = data.agencies[evaluation.agency_id].name
                figure = (report.figure or "").strip()
                below = bool(
                    figure
                    and target is not None
                    and report.status == ReportStatus.DONE.value
                    and not meets(target, figure)
                )
                items.append(
                    _Item(
                        agency,
                        _sentence(report.result),
                        with_unit(target, figure) if figure else "",
                        below,
                        coordinating,
                    )
                )
            else:
                more += 1
    if not items:
        return ""
    return render(
        "report/task_results.j2",
        items=items,
        many=len(items) + more > 1 or len(pairs) > 1,
        more=more,
        target=target.phrase if target and any(i.below for i in items) else "",
    )


@dataclass(frozen=True)
class _Difficulty:
    text: str
    count: int


def difficulty_key(text: str) -> str:
    """Two difficulties are the same when they differ only in spacing, case or NFC/NFD."""
    return nfc(" ".join(text.split())).casefold()


def count_difficulties(evaluations: Iterable[Evaluation]) -> list[_Difficulty]:
    """Distinct difficulties of the latest reports, most frequent first."""
    texts: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for evaluation in evaluations:
        report = evaluation.report
        if report is None or not report.difficulties or report.difficulties.isspace():
            continue
        key = difficulty_key(report.difficulties)
        if key not in texts:
            texts[key] = clean(report.difficulties)
        counts[key] += 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [_Difficulty(texts[k], counts[k]) for k in ranked]


def task_difficulties(result: TaskResult, limit: int = 6) -> str:
    """Difficulties in the latest reports, the same text listed once with its count."""
    ranked = count_difficulties(result.leads + result.coordinators)
    if not ranked:
        return ""
    shown = ranked[:limit]
    return render(
        "report/task_difficulties.j2",
        items=shown,
        many=len(ranked) > 1 or shown[0].count > 1,
        more=len(ranked) - len(shown),
    )


@dataclass(frozen=True)
class DifficultyAnswer:
    """One difficulty of a latest report and the coordinators' answer ("" : not yet)."""

    agency: str
    ref: str
    text: str
    answer: str


@dataclass
class DifficultyList:
    """Difficulties of the latest reports in scope, answered and waiting, the first `limit` of
    each listed (appendix order) and all of them counted."""

    answered: list[DifficultyAnswer]
    waiting: list[DifficultyAnswer]
    answered_total: int = 0
    waiting_total: int = 0


def difficulty_answers(report: CompiledReport, limit: int = 15) -> DifficultyList:
    """Every difficulty raised in the latest reports in scope, with its answer (core.review: a
    «Gặp vướng mắc» status or a difficulties text raises one). Only the listed ones are
    cleaned for display: a province has thousands of reports."""
    found = DifficultyList([], [])
    agencies = report.data.agencies
    for result in report.tasks:
        for evaluation in result.leads + result.coordinators:
            latest = evaluation.report
            if latest is None or not has_difficulty(latest.status, latest.difficulties):
                continue
            if latest.answer:
                found.answered_total += 1
                listed, total = found.answered, found.answered_total
            else:
                found.waiting_total += 1
                listed, total = found.waiting, found.waiting_total
            if total <= limit:
                listed.append(
                    DifficultyAnswer(
                        agencies[evaluation.agency_id].name,
                        result.task.ref,
                        clean(latest.difficulties),
                        clean(latest.answer),
                    )
                )
    return found
