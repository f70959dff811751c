"""A task's three prose cells (progress, results, difficulties), shared by every output.

The workbook's "Tổng hợp" sheet, the Word appendix and narrative and the Markdown export all
call these, so a task reads the same everywhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.report_model import Evaluation, ReportData, TaskResult, Verdict
from core.text import clean, fold
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
        done_on=single.done_on if single else None,
        days_overdue=single.days_overdue if single else 0,
        done=result.tally.done,
        on_time=counts[Verdict.DONE_ON_TIME],
        late=counts[Verdict.DONE_LATE],
        in_progress=counts[Verdict.IN_PROGRESS],
        overdue=counts[Verdict.OVERDUE],
        overdue_silent=sum(
            1 for e in pairs if e.verdict is Verdict.OVERDUE and e.report is None
        ),
        not_reported=counts[Verdict.NOT_REPORTED],
    )


@dataclass(frozen=True)
class _Item:
    agency: str
    result: str
    figure: str | None
    coordinating: bool


def task_results(result: TaskResult, data: ReportData, limit: int = 10) -> str:
    """Results of the latest reports: responsible agencies first (done ones first)."""
    pairs = responsible(result)
    others = result.coordinators if result.leads else []
    ordered = sorted(pairs, key=lambda e: e.report is None or e.report.status != "done")
    items = [
        _Item(data.agencies[e.agency_id].name, clean(e.report.result), e.report.figure, False)
        for e in ordered
        if e.report is not None and clean(e.report.result)
    ]
    items += [
        _Item(data.agencies[e.agency_id].name, clean(e.report.result), e.report.figure, True)
        for e in others
        if e.report is not None and clean(e.report.result)
    ]
    if not items:
        return ""
    shown = items[:limit]
    return render(
        "report/task_results.j2",
        items=shown,
        many=len(items) > 1 or len(pairs) > 1,
        more=len(items) - len(shown),
    )


@dataclass(frozen=True)
class _Difficulty:
    text: str
    count: int


def task_difficulties(result: TaskResult, limit: int = 6) -> str:
    """Difficulties in the latest reports, the same text (diacritics/case aside) once."""
    texts: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for evaluation in result.leads + result.coordinators:
        report = evaluation.report
        if report is None or not clean(report.difficulties):
            continue
        key = fold(report.difficulties)
        texts.setdefault(key, clean(report.difficulties))
        counts[key] += 1
    if not counts:
        return ""
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    shown = [_Difficulty(texts[k], counts[k]) for k in ranked[:limit]]
    return render(
        "report/task_difficulties.j2",
        items=shown,
        many=len(ranked) > 1 or shown[0].count > 1,
        more=len(ranked) - len(shown),
    )
