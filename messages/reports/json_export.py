"""`parbot report --format json`: the compiled numbers for other programs.

Keys are English and stable; verdicts are the `core.report_model.Verdict` values. Per task:
`ref`, `led` (the scope holds a lead agency of it: only led tasks are in `totals.tasks`),
`verdict`, `status` (lead agencies counted per verdict; coordinating ones when not led),
`reports` (agencies that reported, lead or coordinating), `versions` (report versions) and
`extensions` (approved extensions: agency, original and new date, the pair's verdict).
Lead and coordinating figures are apart: `totals.tasks` / `totals.lead_pairs` against
`totals.coordinated_tasks` / `totals.coordinating_pairs`. Each tally's `overdue_reported` is
the part of `overdue` that did report progress. Review (core.review): `totals.review` counts
the latest reports of lead pairs by review state (`pending` chờ duyệt, `accepted`,
`returned`) and `done_pending`, the pairs counted done whose report still waits; per task,
`review` counts its responsible pairs' latest reports the same way. `generated_at` is the
only value that changes when the same data is compiled twice.
"""

from __future__ import annotations

import json
from typing import Any

from core.report_model import CompiledReport, Tally, TaskResult
from messages.reports.round_documents import documents_json


def _tally(tally: Tally) -> dict[str, Any]:
    return {"total": tally.total, **tally.as_dict(), "overdue_reported": tally.overdue_reported}


def _reviews(result: TaskResult) -> dict[str, int]:
    counts = {"pending": 0, "accepted": 0, "returned": 0}
    for evaluation in result.leads or result.coordinators:
        if evaluation.report is not None:
            review = evaluation.report.review
            counts[review] = counts.get(review, 0) + 1
    return counts


def _extensions(report: CompiledReport, result: TaskResult) -> list[dict[str, Any]]:
    """Approved extensions of the task's agencies: the deadline each pair is judged against."""
    found = []
    for e in (*result.leads, *result.coordinators):
        if e.extension is None:
            continue
        original = e.extension.original or result.deadline
        found.append(
            {
                "agency": report.data.agencies[e.agency_id].code,
                "original": original.isoformat() if original else None,
                "new_date": e.extension.new_date.isoformat(),
                "verdict": e.verdict.value,
            }
        )
    return found


def report_dict(report: CompiledReport) -> dict[str, Any]:
    data = report.data
    scope = data.scope
    return {
        "plan": {"code": data.plan.code, "title": data.plan.title, "year": data.plan.year},
        "round": (
            {"code": data.round.code, "deadline": data.round.deadline.isoformat()}
            if data.round
            else None
        ),
        "scope": {
            "area": scope.area_code,
            "kind": scope.agency_kind,
            "agency": scope.agency_code,
        },
        "as_of": data.as_of.isoformat(),
        "generated_at": data.generated_at.isoformat(),
        "totals": {
            "tasks": _tally(report.task_tally),
            "lead_pairs": _tally(report.agency_tally),
            "coordinated_tasks": _tally(report.coordinated_tally),
            "coordinating_pairs": _tally(report.coordinating_tally),
            "review": dict(report.review_tally),
        },
        "areas": [
            {
                "code": area.area.code,
                "title": area.area.title,
                "tasks": _tally(area.task_tally),
                "lead_pairs": _tally(area.agency_tally),
                "coordinated_tasks": _tally(area.coordinated_tally),
                "coordinating_pairs": _tally(area.coordinating_tally),
            }
            for area in report.areas
        ],
        "kinds": {kind: _tally(tally) for kind, tally in report.by_kind.items()},
        "tasks": [
            {
                "ref": result.task.ref,
                "area": area.area.code,
                "deadline": result.deadline.isoformat() if result.deadline else None,
                "led": result.led,
                "verdict": result.verdict.value,
                "status": result.tally.as_dict(),
                "reports": result.reports,
                "versions": result.versions,
                "review": _reviews(result),
                "extensions": _extensions(report, result),
            }
            for area in report.areas
            for result in area.tasks
        ],
        "documents": documents_json(report),
        "late_agencies": [
            {
                "code": item.agency.code,
                "name": item.agency.name,
                "overdue": item.overdue,
                "not_reported": item.not_reported,
                "max_days": item.max_days,
            }
            for item in report.late_agencies
        ],
    }


def report_json(report: CompiledReport) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)
