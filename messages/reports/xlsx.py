"""The compiled Excel workbook.

Sheets, in order:
* "Tổng hợp" — one row per task in appendix order: the appendix's six columns plus progress,
  results, difficulties and the officials' verdict (colour-coded); title, scope, frozen
  header, filters.
* "Thống kê" — the counts: tasks per area, lead pairs per area and per kind of agency, the
  legend of the matrix, the late agencies.
* "Ma trận" — agencies × tasks, the verdict code in each cell, colour-coded.
* "Báo cáo" — every report version with reporter, time (a real date), the achieved figure as
  a number (a percentage as a percentage), evidence names and the receipt number.
* "Văn bản theo kỳ" — only when the scope holds rounds that ask for a document: one row per
  agency asked, what it sent (number, date of issue, time, file, receipt) or that it has not
  (messages/reports/round_documents.py).

Every sheet prints on A4 landscape with its header rows repeated on each page; all but the
matrix fit the page width (the matrix, one column per task, repeats its first three columns
instead, as no page is wide enough for 70 tasks at a readable size).
"""

from __future__ import annotations

import re
from datetime import tzinfo
from pathlib import Path
from typing import Any

from core.evaluation import kind_order
from core.report_model import CompiledReport, Progress, Tally, Verdict
from messages.render import environment, render
from messages.reports.labels import kind_label, labels, status_label
from messages.reports.round_documents import documents_sheet
from messages.reports.summary import scope_text
from messages.reports.texts import task_difficulties, task_progress, task_results
from messages.reports.xlsx_stream import Style, XlsxStream

VERDICT_STYLE = {
    Verdict.DONE_ON_TIME: Style.DONE_ON_TIME,
    Verdict.DONE_LATE: Style.DONE_LATE,
    Verdict.IN_PROGRESS: Style.IN_PROGRESS,
    Verdict.OVERDUE: Style.OVERDUE,
    Verdict.NOT_REPORTED: Style.NOT_REPORTED,
}
SUMMARY_WIDTHS = (7, 40, 11, 18, 18, 30, 26, 44, 28, 13)  # 235: ~60% on an A4 width
REPORT_WIDTHS = (8, 11, 26, 9, 14, 5, 7, 13, 44, 10, 30, 18, 15, 28, 15, 11, 26, 30)
PROGRESS_EVERY = 20_000
UNIX_EPOCH_SERIAL = 25569.0  # 1970-01-01 as an Excel date
LINE_PT = 15.0
MAX_ROW_PT = 409.0  # Excel's limit
_FIGURE = re.compile(r"^\s*(\d{1,12}(?:[.,]\d+)?)\s*(%?)\s*$")
_PERCENT, _PERCENT_DECIMAL = int(Style.PERCENT), int(Style.PERCENT_DECIMAL)


def figure_cell(figure: str | None) -> tuple[Any, int | None]:
    """A stored figure as a cell value and style: "96%" → (0.96, percent), "3" → (3, number);
    anything else stays text (style None: the column's own)."""
    if not figure:
        return figure, None
    match = _FIGURE.match(figure)
    if match is None:
        return figure, None
    number = float(match.group(1).replace(",", "."))
    if match.group(2):
        style = _PERCENT if number == int(number) else _PERCENT_DECIMAL
        return number / 100, style
    return (int(number) if number == int(number) else number), int(Style.NUMBER)


def lines_per_column(
    widths: tuple[float, ...], columns: tuple[int, ...] | None = None
) -> list[tuple[int, int]]:
    """(column, characters of 11 pt Times New Roman per line ≈ 1.2 × width) for the columns
    whose text may wrap (all when `columns` is None)."""
    return [
        (i, max(int(width * 1.2), 1))
        for i, width in enumerate(widths)
        if columns is None or i in columns
    ]


def row_height(values: list[Any], per_line: list[tuple[int, int]]) -> float | None:
    """Points for a row whose wrapped text needs more than one line, else None.

    Excel grows such rows by itself; LibreOffice does not when it opens the file, so the
    height is estimated here from the text length and the column widths.
    """
    lines = 1
    for column, limit in per_line:
        value = values[column]
        if type(value) is str and len(value) > limit:
            needed = len(value) // limit + value.count("\n") + 1
            if needed > lines:
                lines = needed
        elif type(value) is str and "\n" in value:
            needed = value.count("\n") + 1
            if needed > lines:
                lines = needed
    return min(lines * LINE_PT, MAX_ROW_PT) if lines > 1 else None


def write_workbook(
    report: CompiledReport, path: Path | str, tz: tzinfo, progress: Progress | None = None
) -> None:
    """Write the whole workbook to `path` (see the module docstring for its sheets)."""
    step = progress or (lambda _stage, _done, _total: None)
    words = labels()
    data = report.data
    with XlsxStream(
        path,
        title=render("report/xlsx_title.j2", plan_title=data.plan.title),
        created=data.generated_at,
    ) as book:
        book.footer = "&C" + str(words.print_footer)
        _summary_sheet(book, report, words)
        _stats_sheet(book, report, words)
        _matrix_sheet(book, report, words, step)
        _reports_sheet(book, report, words, tz, step)
        documents_sheet(book, report, tz)


def _summary_sheet(book: XlsxStream, report: CompiledReport, words: Any) -> None:
    columns = list(words.summary_columns)
    last = len(columns) - 1
    summary_lines = lines_per_column(SUMMARY_WIDTHS)
    with book.sheet(words.sheet["summary"], SUMMARY_WIDTHS, freeze=(4, 1)) as sheet:
        sheet.row(
            [render("report/xlsx_title.j2", plan_title=report.data.plan.title)],
            Style.TITLE,
            height=42,
        )
        sheet.merge(1, 0, 1, last)
        sheet.row([scope_text(report)], Style.NOTE, height=20)
        sheet.merge(2, 0, 2, last)
        sheet.row([], Style.DEFAULT)
        sheet.row(columns, Style.HEADER, height=32)
        for result in report.tasks:
            task = result.task
            style = [Style.TEXT] * last + [VERDICT_STYLE[result.verdict]]
            values = [
                task.ref,
                task.title,
                task.schedule,
                task.lead_text,
                task.coordinating_text,
                task.expected_output,
                task_progress(result),
                task_results(result, report.data),
                task_difficulties(result),
                words.verdict[result.verdict],
            ]
            sheet.row(values, style, height=row_height(values, summary_lines))
        sheet.auto_filter(4, len(columns))
        sheet.print_titles(4)


def _tally_row(first: list[Any], tally: Tally) -> list[Any]:
    return first + [tally.total] + [tally.counts[v] for v in Verdict]


def _stats_sheet(book: XlsxStream, report: CompiledReport, words: Any) -> None:
    verdicts = [words.verdict[v] for v in Verdict]
    notes: Any = environment().get_template("report/xlsx_notes.j2").module  # template macros
    width = 3 + len(verdicts)
    with book.sheet(words.sheet["stats"], (10, 52, 14, *([16] * len(verdicts)))) as sheet:
        number_row = [Style.CODE, Style.TEXT] + [Style.NUMBER] * (width - 2)
        total_row = [Style.TOTAL] * width

        def table(
            title: str, note: str, header: list[str], rows: list[list[Any]], total: list[Any]
        ) -> None:
            sheet.row([title], Style.TITLE, height=24)
            sheet.merge(sheet.rows, 0, sheet.rows, width - 1)
            if note:
                sheet.row([note], Style.NOTE, height=30)
                sheet.merge(sheet.rows, 0, sheet.rows, width - 1)
            sheet.row(header + verdicts, Style.HEADER, height=32)
            for values in rows:
                sheet.row(values, number_row)
            sheet.row(total, total_row)
            sheet.row([], Style.DEFAULT)

        table(
            words.stats_titles["areas"],
            str(notes.tasks_note()),
            list(words.stats_area_columns),
            [_tally_row([a.area.code, a.area.title], a.task_tally) for a in report.areas],
            _tally_row([words.total, ""], report.task_tally),
        )
        table(
            words.stats_titles["pairs"],
            str(notes.pairs_note()),
            list(words.stats_pair_columns),
            [_tally_row([a.area.code, a.area.title], a.agency_tally) for a in report.areas],
            _tally_row([words.total, ""], report.agency_tally),
        )
        table(
            words.stats_titles["kinds"],
            "",
            list(words.stats_kind_columns),
            [_tally_row([kind, kind_label(kind)], t) for kind, t in report.by_kind.items()],
            _tally_row([words.total, ""], report.agency_tally),
        )

        sheet.row([words.stats_titles["legend"]], Style.TITLE, height=24)
        sheet.merge(sheet.rows, 0, sheet.rows, width - 1)
        for verdict in Verdict:
            sheet.row(
                [words.verdict_code[verdict], words.verdict[verdict]],
                [VERDICT_STYLE[verdict], Style.TEXT],
            )
        mark = words.role_mark["coordinate"]
        sheet.row([mark, str(notes.coordinating_note(mark))], [Style.COORDINATING, Style.TEXT])
        sheet.row([], Style.DEFAULT)

        if report.late_agencies:
            sheet.row([words.stats_titles["late"]], Style.TITLE, height=24)
            sheet.merge(sheet.rows, 0, sheet.rows, width - 1)
            sheet.row(list(words.stats_titles["late_columns"]), Style.HEADER, height=32)
            for item in report.late_agencies:
                sheet.row(
                    [
                        item.agency.code,
                        item.agency.name,
                        item.overdue,
                        item.not_reported,
                        item.max_days,
                    ],
                    [Style.CODE, Style.TEXT, Style.NUMBER, Style.NUMBER, Style.NUMBER],
                )


def _matrix_sheet(book: XlsxStream, report: CompiledReport, words: Any, step: Progress) -> None:
    tasks = report.tasks
    agencies = sorted(report.data.agencies.values(), key=lambda a: (kind_order(a.kind), a.id))
    cells: dict[int, dict[int, tuple[Verdict, bool]]] = {a.id: {} for a in agencies}
    for column, result in enumerate(tasks):
        for evaluation in result.leads:
            cells[evaluation.agency_id][column] = (evaluation.verdict, True)
        for evaluation in result.coordinators:
            cells[evaluation.agency_id][column] = (evaluation.verdict, False)
    codes = {v: str(words.verdict_code[v]) for v in Verdict}
    marked = {v: f"{codes[v]} {words.role_mark['coordinate']}" for v in Verdict}
    fixed = list(words.matrix_columns)
    widths = (14, 40, 18, *([9] * len(tasks)))
    kinds = {a.kind: kind_label(a.kind) for a in agencies}
    blank: list[Any] = [None] * len(tasks)
    plain = [Style.DEFAULT] * len(tasks)
    with book.sheet(words.sheet["matrix"], widths, freeze=(1, 3), fit_width=False) as sheet:
        sheet.row(fixed + [r.task.ref for r in tasks], Style.HEADER, height=30)
        total = len(agencies)
        for done, agency in enumerate(agencies, start=1):
            values = blank.copy()
            styles = plain.copy()
            for column, (verdict, lead) in cells[agency.id].items():
                values[column] = codes[verdict] if lead else marked[verdict]
                styles[column] = VERDICT_STYLE[verdict] if lead else Style.COORDINATING
            sheet.row(
                [agency.code, agency.name, kinds[agency.kind], *values],
                [Style.CODE, Style.TEXT, Style.TEXT, *styles],
            )
            if done % 1000 == 0:
                step("xlsx_matrix", done, total)
        sheet.auto_filter(1, len(fixed) + len(tasks))
        sheet.print_titles(1, columns=len(fixed))
    step("xlsx_matrix", len(agencies), len(agencies))


def _reports_sheet(
    book: XlsxStream, report: CompiledReport, words: Any, tz: tzinfo, step: Progress
) -> None:
    data = report.data
    position = {t.id: (t.position, t.ref) for t in data.tasks}
    leads = {task_id: set(ids) for task_id, ids in data.leads.items()}
    latest = {
        e.report.id
        for result in report.tasks
        for e in result.leads + result.coordinators
        if e.report is not None
    }
    role = words.role
    yes, no = words.yes, words.no
    statuses = {s: status_label(s) for s in words.status}
    ordered = sorted(
        data.reports,
        key=lambda r: (position[r.task_id][0], r.agency_id, r.submitted_at, r.version, r.id),
    )
    code, text = int(Style.CODE), int(Style.TEXT)
    styles = [code, code, text, text, text, int(Style.NUMBER), text, text, text, text, text]
    styles += [text, int(Style.DATETIME), text, code, text, text, text]
    reviews = words.review
    agencies = data.agencies
    total = len(ordered)
    report_lines = lines_per_column(REPORT_WIDTHS, (2, 8, 10, 13, 16, 17))
    lead_role, coordinating_role = role["lead"], role["coordinate"]
    utcoffset = tz.utcoffset
    with book.sheet(words.sheet["reports"], REPORT_WIDTHS, freeze=(1, 3)) as sheet:
        sheet.row(list(words.report_columns), Style.HEADER, height=30)
        for done, item in enumerate(ordered, start=1):
            agency = agencies[item.agency_id]
            moment = item.submitted_at
            offset = utcoffset(moment)
            # the local time as an Excel serial (styled as a date-time): cheaper than
            # converting to a naive local datetime for each of 350,000 rows
            serial = (moment.timestamp() + (offset.total_seconds() if offset else 0)) / 86400
            figure, figure_style = figure_cell(item.figure)
            values = [
                position[item.task_id][1],
                agency.code,
                agency.name,
                lead_role if item.agency_id in leads.get(item.task_id, ()) else coordinating_role,
                item.round_code,
                item.version,
                yes if item.id in latest else no,
                statuses.get(item.status, item.status),
                item.result,
                figure,
                item.difficulties,
                item.reporter,
                serial + UNIX_EPOCH_SERIAL,
                "; ".join([e.file_name for e in item.evidence]) if item.evidence else "",
                item.receipt,
                reviews.get(item.review, item.review),
                item.review_reason,
                item.answer,
            ]
            row_styles = styles
            if figure_style is not None:
                row_styles = styles.copy()
                row_styles[9] = figure_style
            sheet.row(values, row_styles, height=row_height(values, report_lines))
            if done % PROGRESS_EVERY == 0:
                step("xlsx_reports", done, total)
        sheet.auto_filter(1, len(styles))
        sheet.print_titles(1)
    step("xlsx_reports", total, total)
