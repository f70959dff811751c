"""The Word report in the administrative format of Nghị định 30/2020/NĐ-CP.

Layout (Appendix I of the decree): A4; margins top and bottom 20 mm, left 30 mm, right 15 mm;
Times New Roman, 14 pt body and 13 pt tables; a borderless two-column header — issuing body
(parent in capitals, the body itself bold, a short rule under it) beside the national motto
(bold, a rule under "Độc lập - Tự do - Hạnh phúc"); the number and the place-date line
(italic); the kind of document and its subject, centred and bold; the body; "Nơi nhận" beside
the signature block; page numbers centred in the header from page 2. The appendix table (one
row per task with its status) is a landscape section.

Every sentence is a template in messages/templates/docs/; names of the issuer and the place
come from the `Letterhead` (data and settings), never from code.

Two dates, never confused: the *document's* date ("Quảng Nam, ngày 01 tháng 12 năm 2026", the
day it is made, written the decree's way with a leading zero for days under 10 and months 1
and 2) and the *evaluation* date ("Tính đến ngày 31/12/2024", the report model's `as_of`),
so a past plan is reported today as it stood then. The opening sentence cites the plan by its
number, symbol and date of issue from the plan's metadata ("Kế hoạch số 1234/KH-UBND ngày
26/06/2024 của UBND tỉnh Quảng Nam"; "…" stands for a number the data does not have). The
document is Vietnamese (vi-VN in the styles and every run, so Word checks the spelling of the
right language) and its properties name the issuer and the document's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from core.report_model import CompiledReport, Letterhead, Progress, Verdict
from core.text import clean
from messages.render import VN, environment, render
from messages.reports.labels import kind_label, labels
from messages.reports.texts import (
    count_difficulties,
    difficulty_answers,
    task_difficulties,
    task_progress,
    task_results,
)

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
LATE_NAMED = 10
TOP_DIFFICULTIES = 5
ANSWERS_LISTED = 15  # difficulties listed one by one with their answers (section III)
LANGUAGE = "vi-VN"
TEXT_WIDTH_MM = 165  # A4 less the 30 mm and 15 mm margins


def _parts() -> Any:
    return environment().get_template("docs/report_parts.j2").module


def document_day(report: CompiledReport) -> date:
    """The document's date: the day it is made (local time), never before the evaluation date."""
    made = report.data.generated_at
    day = (made.astimezone(VN) if made.tzinfo else made).date()
    return max(day, report.data.as_of)


def _moment(report: CompiledReport, day: date) -> datetime:
    """When the document was made (UTC, as the core properties store it), on its date."""
    made = report.data.generated_at
    if made.tzinfo:
        made = made.astimezone(VN)
    if made.date() != day:
        made = datetime.combine(day, time(8, 0), tzinfo=VN)
    utc = made.astimezone(ZoneInfo("UTC")) if made.tzinfo else made
    return utc.replace(tzinfo=None)


def plan_kind_and_subject(title: str) -> tuple[str, str]:
    """ "Kế hoạch cải thiện …" → ("Kế hoạch", "cải thiện …"): cited as "Kế hoạch số … về …"."""
    kind = "Kế hoạch"
    if title.lower().startswith(kind.lower() + " "):
        return title[: len(kind)], title[len(kind) + 1 :].strip()
    return "", title


def _language(properties: Any) -> None:
    """Mark run or style properties as Vietnamese (Word's proofing language)."""
    lang = properties.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        properties.append(lang)
    for key in ("w:val", "w:eastAsia"):
        lang.set(qn(key), LANGUAGE)


def report_subject(plan_title: str, letterhead: Letterhead) -> str:
    """The plan's title without the territory the header already names."""
    title = plan_title
    if letterhead.territory and letterhead.territory in title:
        title = title.replace(f" {letterhead.territory}", "", 1)
    return clean(title)


def _run(
    paragraph: Paragraph,
    text: str,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
) -> None:
    run = paragraph.add_run(text)
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold or None
    run.italic = italic or None
    _language(run._r.get_or_add_rPr())


def _para(
    container: Any,
    text: str = "",
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    after: float = 6,
    first: bool = False,
) -> Paragraph:
    """A paragraph; `first=True` reuses a table cell's empty first paragraph."""
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.15 if indent else 1.0
    if indent:
        fmt.first_line_indent = Cm(1)
    if align is not None:
        paragraph.alignment = align
    if text:
        _run(paragraph, text, size, bold, italic)
    return paragraph


def _rule(cell: Any, indent_mm: float, after: float = 0) -> None:
    """A short centred line (a bottom border between indents) under a header block or the
    title (the decree: a rule under the subject, a third to a half of its line)."""
    paragraph = _para(cell, align=WD_ALIGN_PARAGRAPH.CENTER, after=after)
    fmt = paragraph.paragraph_format
    fmt.left_indent = Mm(indent_mm)
    fmt.right_indent = Mm(indent_mm)
    run = paragraph.add_run()
    run.font.size = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _borderless(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _widths(table: Table, widths_mm: Sequence[float]) -> None:
    """Column widths in the grid (LibreOffice reads these) and in every cell (Word does)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def _repeat_header(table: Table) -> None:
    row_properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row_properties.append(header)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _page_number_header(document: DocumentType) -> None:
    """Page numbers centred at the top from page 2 (the decree's rule)."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(TABLE_PT * 2))
    fonts = OxmlElement("w:rFonts")
    for key in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(key), FONT)
    properties.append(fonts)
    properties.append(size)
    run.append(properties)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _setup(document: DocumentType, title: str, author: str, made: datetime) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for key in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(key), FONT)
    _language(normal.element.get_or_add_rPr())
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for properties in defaults.iter(qn("w:rPr")):
            _language(properties)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)
    core = document.core_properties
    core.title = title
    core.subject = title
    core.author = author
    core.last_modified_by = author
    core.language = LANGUAGE
    core.created = made
    core.modified = made
    core.revision = 1
    core.comments = ""
    core.keywords = ""


def _header(document: DocumentType, lh: Letterhead, day: date, parts: Any) -> None:
    table = document.add_table(rows=2, cols=2)
    _borderless(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, [65, 100])
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(left, str(parts.parent_body(lh)), 13, align=center, after=0, first=True)
    _para(left, str(parts.body(lh)), 13, bold=True, align=center, after=0)
    _rule(left, 20)
    _para(right, str(parts.motto()), 13, bold=True, align=center, after=0, first=True)
    _para(right, str(parts.motto_sub()), 14, bold=True, align=center, after=0)
    _rule(right, 24)
    left, right = table.rows[1].cells
    _para(left, str(parts.number(lh)), 13, align=center, after=0, first=True)
    _para(
        right, str(parts.place_date(lh, day)), 14, italic=True, align=center, after=0, first=True
    )


def _counts_table(document: DocumentType, report: CompiledReport, parts: Any) -> None:
    words = labels()
    header = str(parts.overview_columns()).split("|") + [words.verdict[v] for v in Verdict]
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _para(cell, text, 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0, first=True)
        _shade(cell, "D9E1F2")
    _repeat_header(table)

    def add(first: str, tally: Any, bold: bool = False) -> None:
        cells = table.add_row().cells
        values = [first, str(tally.total)] + [str(tally.counts[v]) for v in Verdict]
        for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if index == 0 else WD_ALIGN_PARAGRAPH.CENTER
            _para(cell, text, TABLE_PT, bold=bold, align=align, after=0, first=True)

    for area in report.areas:
        add(area.area.code, area.task_tally)
    add(str(parts.total()), report.task_tally, bold=True)
    _widths(table, [22, 20] + [123 / len(Verdict)] * len(Verdict))


def _difficulties(report: CompiledReport) -> list[Any]:
    everything = (e for result in report.tasks for e in result.leads + result.coordinators)
    return count_difficulties(everything)[:TOP_DIFFICULTIES]


def _signature(document: DocumentType, lh: Letterhead, parts: Any) -> None:
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, [85, 80])
    left, right = table.rows[0].cells
    _para(
        left,
        str(parts.recipients_title()),
        12,
        bold=True,
        italic=True,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        after=0,
        first=True,
    )
    for line in str(parts.recipients(lh)).splitlines():
        _para(left, line, 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    center = WD_ALIGN_PARAGRAPH.CENTER
    titles = [t.strip() for t in str(parts.signer_title(lh)).split("|") if t.strip()]
    for number, line in enumerate(titles):
        _para(right, line.upper(), 14, bold=True, align=center, after=0, first=number == 0)
    for _ in range(4):
        _para(right, "", 14, align=center, after=0)
    _para(right, str(parts.signer_name(lh)), 14, bold=True, align=center, after=0)


def _appendix(
    document: DocumentType,
    report: CompiledReport,
    lh: Letterhead,
    parts: Any,
    step: Progress,
) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(20), Mm(15)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, str(parts.appendix_kind()), 14, bold=True, align=center, after=0)
    _para(document, str(parts.appendix_title()), 14, bold=True, align=center, after=0)
    _para(document, str(parts.appendix_ref(lh)), 14, italic=True, align=center, after=12)

    words = labels()
    header = str(parts.appendix_columns()).split("|")
    widths = [14, 58, 20, 32, 46, 70, 22]  # 262 mm: the landscape text width
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _para(cell, text, TABLE_PT, bold=True, align=center, after=0, first=True)
        _shade(cell, "D9E1F2")
    _repeat_header(table)
    total = len(report.tasks)
    done = 0
    for area in report.areas:
        row = table.add_row()
        merged = row.cells[1].merge(row.cells[-1])
        _para(row.cells[0], area.area.code, TABLE_PT, bold=True, align=center, after=0, first=True)
        _para(
            merged,
            area.area.title,
            TABLE_PT,
            bold=True,
            align=WD_ALIGN_PARAGRAPH.LEFT,
            after=0,
            first=True,
        )
        for result in area.tasks:
            task = result.task
            values = [
                task.ref,
                task.title,
                task.schedule,
                task.lead_text,
                task_progress(result),
                task_results(result, report.data, limit=3),
                words.verdict[result.verdict],
            ]
            cells = table.add_row().cells
            for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
                align = center if index in (0, 2, 6) else WD_ALIGN_PARAGRAPH.LEFT
                lines = text.splitlines() or [""]
                _para(cell, lines[0], TABLE_PT, align=align, after=0, first=True)
                for line in lines[1:]:
                    _para(cell, line, TABLE_PT, align=align, after=0)
            done += 1
            step("docx", done, total)
    _widths(table, widths)


def _documents(document: DocumentType, report: CompiledReport) -> None:
    """One paragraph per round that asks each agency for a document: who sent what, when."""
    for item in report.documents:
        sent = [row for row in item.rows if row.state.value in ("on_time", "late")]
        missing = [row for row in item.rows if row not in sent]
        _para(
            document,
            render("docs/documents.j2", item=item, sent=sent, missing=missing),
            indent=True,
        )


def write_report_docx(
    report: CompiledReport,
    letterhead: Letterhead,
    path: Path | str,
    progress: Progress | None = None,
) -> None:
    """Write the Word report for `report` to `path`."""
    step = progress or (lambda _stage, _done, _total: None)
    parts = _parts()
    data = report.data
    day = document_day(report)
    subject = report_subject(data.plan.title, letterhead)
    document = Document()
    _setup(
        document,
        f"{parts.kind_word()} {parts.subject(subject)}",
        letterhead.body,
        _moment(report, day),
    )
    _page_number_header(document)
    _header(document, letterhead, day, parts)

    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, "", after=6)
    _para(document, str(parts.kind()), 14, bold=True, align=center, after=0)
    _para(document, str(parts.subject(subject)), 14, bold=True, align=center, after=0)
    _para(document, str(parts.as_of(data.as_of)), 14, italic=True, align=center, after=0)
    _rule(document, (TEXT_WIDTH_MM - TEXT_WIDTH_MM / 3) / 2, after=12)

    scope = data.scope
    area = next((a for a in data.areas if a.code == (scope.area_code or "").upper()), None)
    agency = next((a for a in data.agencies.values() if a.code == scope.agency_code), None)
    scope_note = render(
        "docs/scope_note.j2",
        area=f"{area.code}. {area.title}" if area else "",
        kind=kind_label(scope.agency_kind) if scope.agency_kind else "",
        agency=agency.name if agency else "",
    )
    _para(
        document,
        render(
            "docs/intro.j2",
            plan=data.plan,
            plan_kind=plan_kind_and_subject(data.plan.title)[0],
            plan_subject=plan_kind_and_subject(data.plan.title)[1],
            lh=letterhead,
            as_of=data.as_of,
            round=data.round,
            scope_note=scope_note,
        ),
        indent=True,
    )

    _para(document, str(parts.section_results()), bold=True, indent=True)
    if not data.tasks and report.documents:  # a round that asks only for documents
        _documents(document, report)
        _para(document, str(parts.section_overview()), bold=True, indent=True)
        _para(
            document,
            render(
                "docs/documents_overview.j2",
                items=report.documents,
                as_of=data.as_of,
                lh=letterhead,
            ),
            indent=True,
        )
        _para(document, render("docs/closing.j2", title=subject, lh=letterhead), indent=True)
        _signature(document, letterhead, parts)
        document.save(str(path))
        return
    for index, area_result in enumerate(report.areas, start=1):
        _para(document, str(parts.area_heading(index, area_result.area)), bold=True, indent=True)
        pairs = area_result.agency_tally
        percent = round(100 * pairs.done / pairs.total) if pairs.total else 0
        _para(
            document,
            render("docs/area.j2", tally=area_result.task_tally, pairs=pairs, percent=percent),
            indent=True,
        )
        for result in area_result.tasks:
            lines: list[tuple[str, bool]] = [
                (render("docs/task.j2", task=result.task, progress=task_progress(result)), False)
            ]
            results = task_results(result, data, limit=2)
            difficulties = task_difficulties(result, limit=2)
            for key, text in (("results", results), ("difficulties", difficulties)):
                if text:
                    lines.append((str(getattr(parts, key)()), True))
                    lines += [(line, False) for line in text.splitlines() if line]
            for number, (line, italic) in enumerate(lines, start=1):
                _para(
                    document,
                    line,
                    italic=italic,
                    indent=True,
                    after=6 if number == len(lines) else 0,
                )

    _para(document, str(parts.section_overview()), bold=True, indent=True)
    _para(
        document,
        render("docs/overview.j2", tasks=report.task_tally, pairs=report.agency_tally),
        indent=True,
    )
    _para(document, str(parts.overview_table()), 13, italic=True, align=center, after=3)
    _counts_table(document, report, parts)
    _para(document, "", after=3)
    _para(
        document,
        render(
            "docs/late.j2",
            late=report.late_agencies[:LATE_NAMED],
            more=max(0, len(report.late_agencies) - LATE_NAMED),
        ),
        indent=True,
    )

    _documents(document, report)

    _para(document, str(parts.section_issues()), bold=True, indent=True)
    _para(document, render("docs/difficulties.j2", items=_difficulties(report)), indent=True)
    raised = difficulty_answers(report, ANSWERS_LISTED)
    listed = render(
        "docs/difficulty_answers.j2",
        answered=raised.answered,
        answered_more=raised.answered_total - len(raised.answered),
        waiting=raised.waiting,
        waiting_more=raised.waiting_total - len(raised.waiting),
    )
    for line in listed.splitlines():
        if line.strip():
            _para(document, line, indent=True)
    _para(document, render("docs/proposals.j2", lh=letterhead), indent=True)
    _para(document, render("docs/closing.j2", title=subject, lh=letterhead), indent=True)
    _signature(document, letterhead, parts)

    _appendix(document, report, letterhead, parts, step)
    document.save(str(path))
