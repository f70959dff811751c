"""One entry point for every output of the compiled report (CLI, chat, benchmark).

`compile_report` loads and evaluates once; `write_output` writes one format from that same
`CompiledReport`, which is why the chat summary, workbook, Word report, chart and JSON always
agree.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session

from core.evaluation import evaluate
from core.report_model import CompiledReport, Letterhead, Progress, Scope
from messages.reports.bundle import write_bundle
from messages.reports.chart import write_chart
from messages.reports.docx import write_report_docx
from messages.reports.json_export import report_json
from messages.reports.summary import markdown
from messages.reports.xlsx import write_workbook
from storage.reports.query import iter_evidence, load_report_data

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "md": "text/markdown",
    "json": "application/json",
    "zip": "application/zip",
}


class Format(StrEnum):
    XLSX = "xlsx"
    DOCX = "docx"
    PNG = "png"
    MD = "md"
    JSON = "json"
    ZIP = "zip"


def compile_report(
    session: Session, scope: Scope, tz: tzinfo, now: datetime, progress: Progress | None = None
) -> CompiledReport:
    """Load the scope's data and judge it (raises `storage.reports.query.ScopeError`)."""
    data = load_report_data(session, scope, tz, now, progress)
    if progress:
        progress("evaluate", 0, 1)
    report = evaluate(data, tz)
    if progress:
        progress("evaluate", 1, 1)
    return report


def file_name(report: CompiledReport, fmt: Format) -> str:
    """tong-hop-PAR-2024-2025-03-31[-KH-X][-III][-commune][-SNV].xlsx: says what it covers."""
    data, scope = report.data, report.data.scope
    parts = ["tong-hop", data.plan.code, data.as_of.isoformat()]
    parts += [
        p for p in (scope.round_code, scope.area_code, scope.agency_kind, scope.agency_code) if p
    ]
    stem = "-".join(parts)
    return f"{stem}.{fmt.value}"


def write_output(
    fmt: Format,
    report: CompiledReport,
    path: Path,
    tz: tzinfo,
    letterhead: Letterhead | None = None,
    session: Session | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write `report` as `fmt` to `path`. Word needs `letterhead`; the zip needs `session`
    (evidence bytes are streamed from the database)."""
    if fmt is Format.XLSX:
        write_workbook(report, path, tz, progress)
    elif fmt is Format.DOCX:
        if letterhead is None:
            raise ValueError("the Word report needs a letterhead")
        write_report_docx(report, letterhead, path, progress)
    elif fmt is Format.PNG:
        write_chart(report, path)
    elif fmt is Format.MD:
        path.write_text(markdown(report) + "\n", encoding="utf-8")
    elif fmt is Format.JSON:
        path.write_text(report_json(report) + "\n", encoding="utf-8")
    elif fmt is Format.ZIP:
        if session is None:
            raise ValueError("the evidence bundle needs a database session")
        write_bundle(report.data, iter_evidence(session, report.data), path, tz)
    return path
