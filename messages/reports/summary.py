"""The short chat summary (/tonghop) and the Markdown export, both from templates."""

from __future__ import annotations

from typing import Any

from core.report_model import CompiledReport
from messages.render import render
from messages.reports.labels import kind_label
from messages.reports.texts import task_difficulties, task_progress, task_results

LATE_SHOWN = 5
DOCUMENTS_SHOWN = 20  # agencies named as "not sent yet" in chat; the rest are counted


def scope_text(report: CompiledReport) -> str:
    """ "Tính đến ngày …; kỳ báo cáo …; lĩnh vực …" — what the numbers cover."""
    data, scope = report.data, report.data.scope
    area = next((a for a in data.areas if a.code == (scope.area_code or "").upper()), None)
    agency = next((a for a in data.agencies.values() if a.code == scope.agency_code), None)
    return render(
        "report/scope.j2",
        as_of=data.as_of,
        round=data.round,
        area=f"{area.code}. {area.title}" if area else "",
        kind=kind_label(scope.agency_kind) if scope.agency_kind else "",
        agency=agency.name if agency else (scope.agency_code or ""),
    )


def scope_agency(report: CompiledReport) -> str:
    """The agency's name when the report is one agency's own part, else ""."""
    code = report.data.scope.agency_code
    if not code:
        return ""
    agency = next((a for a in report.data.agencies.values() if a.code == code), None)
    return agency.name if agency else code


def summary_model(report: CompiledReport, late_shown: int = LATE_SHOWN) -> dict[str, Any]:
    """What the chat summary shows, straight from the evaluation (the property test reads
    it): lead figures, coordinating figures apart, areas, the most overdue agencies."""
    return {
        "plan": report.data.plan,
        "agency": scope_agency(report),
        "tasks": report.task_tally,
        "coordinated": report.coordinated_tally,
        "pairs": report.agency_tally,
        "coordinating": report.coordinating_tally,
        "review": report.review_tally,
        "areas": report.areas,
        "late": report.late_agencies[:late_shown],
        "late_more": max(0, len(report.late_agencies) - late_shown),
        "extended": extended_pairs(report),
    }


def extended_pairs(report: CompiledReport) -> list[dict[str, object]]:
    """Pairs judged against an approved extension, appendix order: "gia hạn đến …"."""
    agencies = report.data.agencies
    return [
        {
            "agency": agencies[e.agency_id].name,
            "ref": result.task.ref,
            "new_date": e.extension.new_date,
            "verdict": e.verdict.value,
        }
        for result in report.tasks
        for e in (*result.leads, *result.coordinators)
        if e.extension is not None
    ]


def summary_text(report: CompiledReport, late_shown: int = LATE_SHOWN) -> str:
    """Per area: tasks, done, in progress, not reported, overdue; the most overdue agencies;
    then the rounds that ask for a document (who sent what and when, who has not)."""
    documents = documents_text(report) if report.documents else ""
    if documents and not report.data.tasks:  # a round that asks only for documents
        return f"{scope_text(report)}\n\n{documents}"
    text = render(
        "report/summary.j2", scope=scope_text(report), **summary_model(report, late_shown)
    )
    return f"{text}\n\n{documents}" if documents else text


def documents_text(report: CompiledReport, shown: int = DOCUMENTS_SHOWN) -> str:
    return render("report/documents.j2", items=report.documents, shown=shown).strip()


def markdown(report: CompiledReport) -> str:
    """The whole compiled report as Markdown: totals, areas, kinds, tasks, late agencies."""
    tasks = [
        {
            "result": result,
            "progress": task_progress(result),
            "results": task_results(result, report.data, limit=3),
            "difficulties": task_difficulties(result, limit=3),
        }
        for result in report.tasks
    ]
    kinds = [(kind_label(kind), tally) for kind, tally in report.by_kind.items()]
    text = render(
        "report/report.md.j2",
        plan=report.data.plan,
        scope=scope_text(report),
        report=report,
        tasks=tasks,
        kinds=kinds,
    )
    if report.documents:  # rounds that ask for a document: who sent what, who has not
        text = f"{text.rstrip()}\n\n{documents_text(report, shown=10_000)}"
    return text
