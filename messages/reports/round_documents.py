"""The document rounds of a compiled report in each output: a workbook sheet, a Word section,
JSON, chat lines. One reading (`core.round_documents.document_rows`) feeds them all."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from core.report_model import CompiledReport
from core.round_documents import DocumentRow, DocumentTally
from messages.reports.labels import labels
from messages.reports.xlsx_stream import Style, XlsxStream, excel_serial

DOCUMENT_WIDTHS = (30, 11, 10, 28, 20, 18, 11, 15, 6, 18, 24, 30, 15, 14, 30)
STATE_STYLE = {
    "on_time": Style.DONE_ON_TIME,
    "late": Style.DONE_LATE,
    "returned": Style.OVERDUE,
    "missing": Style.NOT_REPORTED,
    "overdue": Style.OVERDUE,
}


def rounds_of(report: CompiledReport) -> list[tuple[Any, list[DocumentRow], DocumentTally]]:
    return [(r.round, r.rows, r.tally) for r in report.documents]


def documents_sheet(book: XlsxStream, report: CompiledReport, tz: tzinfo) -> None:
    """«Văn bản theo kỳ»: one row per agency asked, per document round."""
    words = labels()
    found = rounds_of(report)
    if not found:
        return
    code, text = int(Style.CODE), int(Style.TEXT)
    with book.sheet(words.sheet["documents"], DOCUMENT_WIDTHS, freeze=(1, 4)) as sheet:
        sheet.row(list(words.document_columns), Style.HEADER, height=30)
        for round_, rows, _tally in found:
            for row in rows:
                sent = row.submission
                state = row.state.value
                styles = [text, int(Style.DATE), code, text, int(STATE_STYLE[state])]
                styles += [text, int(Style.DATE), int(Style.DATETIME), int(Style.NUMBER)]
                styles += [text, text, text, code, text, text]
                when = sent.submitted_at.astimezone(tz).replace(tzinfo=None) if sent else None
                values = [
                    round_.title,
                    excel_serial(round_.deadline),
                    row.agency_code,
                    row.agency_name,
                    words.document_state[state],
                    sent.number if sent else "",
                    excel_serial(sent.issued_on) if sent else "",
                    excel_serial(when) if when else "",
                    sent.version if sent else "",
                    sent.reporter if sent else "",
                    sent.file_name if sent else "",
                    sent.note if sent else "",
                    sent.receipt if sent else "",
                    words.document_status.get(sent.status, sent.status) if sent else "",
                    sent.status_reason if sent else "",
                ]
                sheet.row(values, styles)
        sheet.auto_filter(1, len(words.document_columns))
        sheet.print_titles(1)


def documents_json(report: CompiledReport) -> list[dict[str, Any]]:
    return [
        {
            "round": round_.code,
            "title": round_.title,
            "deadline": round_.deadline.isoformat(),
            "totals": {
                "asked": tally.asked,
                "sent": tally.sent,
                "on_time": tally.on_time,
                "late": tally.late,
                "returned": tally.returned,
                "not_sent": tally.not_sent,
            },
            "agencies": [
                {
                    "code": row.agency_code,
                    "name": row.agency_name,
                    "state": row.state.value,
                    "submission": (
                        {
                            "receipt": row.submission.receipt,
                            "status": row.submission.status,
                            "status_reason": row.submission.status_reason,
                            "number": row.submission.number,
                            "issued_on": row.submission.issued_on.isoformat(),
                            "submitted_at": row.submission.submitted_at.isoformat(),
                            "version": row.submission.version,
                            "file_name": row.submission.file_name,
                            "note": row.submission.note,
                        }
                        if row.submission
                        else None
                    ),
                }
                for row in rows
            ],
        }
        for round_, rows, tally in rounds_of(report)
    ]
