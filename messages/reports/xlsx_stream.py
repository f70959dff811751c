"""A small streaming .xlsx writer: rows go straight into the zip, memory stays flat.

Why not openpyxl or XlsxWriter? Both were measured on this project's target machine (2 cores)
with the nationwide workbook (~350,000 reports × 15 columns + a 5,000 × 70 matrix ≈ 5.6
million cells): openpyxl's write-only mode needs ~15 µs a cell (≈ 80 s), XlsxWriter's
constant-memory mode ~10 µs (≈ 55 s); the issue allows 20 s. Both spend that time in per-cell
dispatch and validation. Writing SpreadsheetML rows as joined strings costs ~1 µs a cell.
The output is checked by reading it back with openpyxl and converting it with LibreOffice
(tests/test_report_xlsx.py).

Supported, because the report needs it and no more: several sheets, inline strings (with
XML-illegal characters removed and the 32,767-character cell limit applied), numbers,
booleans, dates and datetimes as real Excel dates, a fixed table of cell styles, column
widths, frozen panes, auto-filters, merged cells, and printing: A4 landscape, all columns
fitted to the page width with the height left free (a long sheet runs over as many pages as
it needs, at a readable size), the header rows (and columns) repeated on every printed page,
and "Trang n/m" at the foot of each page.
"""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import IntEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from xml.sax.saxutils import quoteattr

MAX_CELL_CHARS = 32_767
EPOCH = datetime(1899, 12, 30)
# The Excel epoch expressed for date objects (ordinal arithmetic is cheaper than timedelta).
EPOCH_ORDINAL = EPOCH.toordinal()
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # same data → same bytes, apart from docProps dates


class Style(IntEnum):
    """Indices into the cellXfs table written by `_styles_xml` (same order)."""

    DEFAULT = 0
    HEADER = 1
    TEXT = 2
    DATE = 3
    DATETIME = 4
    NUMBER = 5
    DONE_ON_TIME = 6
    DONE_LATE = 7
    IN_PROGRESS = 8
    OVERDUE = 9
    NOT_REPORTED = 10
    TITLE = 11
    NOTE = 12
    TOTAL = 13
    CODE = 14
    COORDINATING = 15
    PERCENT = 16  # 0.96 shown as 96%
    PERCENT_DECIMAL = 17  # 0.965 shown as 96.5% (the reader's locale picks the separator)


# fill colour (ARGB) per verdict style: green, light green, yellow, red, grey
_VERDICT_FILLS = ("FFC6EFCE", "FFE2F0D9", "FFFFEB9C", "FFFFC7CE", "FFE7E6E6")

_ESCAPES: dict[int, str | None] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_ESCAPES.update({c: None for c in range(32) if c not in (9, 10, 13)})
_ESCAPES.update({0xFFFE: None, 0xFFFF: None})


# the opening of a text cell (spaces and line breaks kept as typed), and an empty cell, for
# every style index
_STRING_OPEN = [f'<c s="{n}" t="inlineStr"><is><t xml:space="preserve">' for n in range(64)]
_EMPTY = [f'<c s="{n}"/>' for n in range(64)]


def _fit(text: str) -> str:
    """A cell's text: at most 32,767 characters, markup escaped, illegal characters gone."""
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text.translate(_ESCAPES)


def escape(text: str) -> str:
    """XML text: markup characters escaped, characters XML 1.0 forbids dropped."""
    return text.translate(_ESCAPES)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_LETTERS = [column_letter(i) for i in range(702)]


def excel_serial(value: date | datetime) -> float:
    """Days since 1899-12-30, the way Excel stores dates (time as the fraction)."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
        delta = value - EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float(value.toordinal() - EPOCH_ORDINAL)


_PLAIN = frozenset({int(Style.TEXT), int(Style.DEFAULT)})  # styles a date replaces
_DATE, _DATETIME = int(Style.DATE), int(Style.DATETIME)


class SheetWriter:
    """Writes one worksheet's rows; obtained from `XlsxStream.sheet`, closed before the next."""

    def __init__(
        self,
        book: XlsxStream,
        stream: IO[bytes],
        index: int,
        widths: Sequence[float],
        freeze: tuple[int, int] | None,
        landscape: bool,
        selected: bool,
        fit_width: bool = True,
        footer: str = "",
    ) -> None:
        self.book, self.stream, self.index = book, stream, index
        self.fit_width = fit_width
        self.footer = footer
        self.title_rows: tuple[int, int] | None = None  # 1-based, repeated on printed pages
        self.title_columns: int = 0  # the first n columns, repeated on printed pages
        self.landscape = landscape
        self.rows = 0
        self.filter_ref: str | None = None
        self.merges: list[str] = []
        self._buffer: list[str] = []
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, name="xlsx-deflate", daemon=True)
        self._thread.start()
        head = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            + ('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if fit_width else "")
            + "<sheetViews>",
            '<sheetView workbookViewId="0"' + (' tabSelected="1"' if selected else "") + ">",
        ]
        if freeze and (freeze[0] or freeze[1]):
            rows, cols = freeze
            top_left = f"{_LETTERS[cols]}{rows + 1}"
            pane = "bottomRight" if rows and cols else ("bottomLeft" if rows else "topRight")
            split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
            head.append(
                f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>'
            )
        head.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if widths:
            head.append("<cols>")
            head += [
                f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                for i, w in enumerate(widths, start=1)
            ]
            head.append("</cols>")
        head.append("<sheetData>")
        self._write("".join(head))

    def _write(self, text: str) -> None:
        if self._failed is not None:
            raise self._failed
        self._queue.put(text.encode("utf-8"))

    def _pump(self) -> None:
        """Deflate and write in a second thread: zlib releases the GIL, so compression runs
        on the other core while the next rows are built."""
        try:
            while (chunk := self._queue.get()) is not None:
                self.stream.write(chunk)
        except BaseException as exc:  # re-raised in the writing thread
            self._failed = exc
            while self._queue.get() is not None:
                pass

    def row(
        self,
        values: Sequence[Any],
        style: int | Sequence[int] = Style.TEXT,
        height: float | None = None,
    ) -> None:
        """Append a row. `style` is one style for every cell or one per cell; a date or
        datetime in a text/default-styled cell gets the date style so it stays a real date.

        This is the hot loop of a nationwide workbook (millions of cells): exact type tests,
        strings escaped only when a regex finds something to escape, no per-cell f-strings.
        """
        self.rows += 1
        styles = [style] * len(values) if isinstance(style, int) else style
        parts = [
            f'<row r="{self.rows}" ht="{height:g}" customHeight="1">'
            if height
            else f'<row r="{self.rows}">'
        ]
        append = parts.append
        # Cells carry no "r" attribute: each <c> is the next column (placeholders fill gaps),
        # which the format allows and which halves the bytes to write and compress.
        for value, s in zip(values, styles, strict=False):
            kind = type(value)
            if kind is str:
                if not value:
                    append(_EMPTY[s])
                    continue
                if (
                    "&" in value
                    or "<" in value
                    or ">" in value
                    or not value.isprintable()  # C-fast; a regex is slow on Vietnamese
                    or len(value) > MAX_CELL_CHARS
                ):
                    value = _fit(value)
                append(_STRING_OPEN[s] + value + "</t></is></c>")
            elif value is None:
                append(_EMPTY[s])
            elif kind is int or kind is float:
                append(f'<c s="{s}"><v>{value!r}</v></c>')
            elif kind is bool:
                append(f'<c s="{s}" t="b"><v>{int(value)}</v></c>')
            elif kind is datetime or isinstance(value, datetime):
                s = _DATETIME if s in _PLAIN else s
                append(f'<c s="{s}"><v>{excel_serial(value)!r}</v></c>')
            elif isinstance(value, date):
                s = _DATE if s in _PLAIN else s
                append(f'<c s="{s}"><v>{excel_serial(value)!r}</v></c>')
            elif isinstance(value, int | float):
                append(f'<c s="{s}"><v>{value!r}</v></c>')
            else:
                append(_STRING_OPEN[s] + _fit(str(value)) + "</t></is></c>")
        append("</row>")
        self._buffer.append("".join(parts))
        if len(self._buffer) >= 512:
            self._flush()

    def rows_from(self, rows: Iterable[Sequence[Any]], style: int | Sequence[int]) -> None:
        for values in rows:
            self.row(values, style)

    def _flush(self) -> None:
        if self._buffer:
            self._write("".join(self._buffer))
            self._buffer.clear()

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Merge a rectangle given as 1-based rows and 0-based columns."""
        self.merges.append(f"{_LETTERS[first_col]}{first_row}:{_LETTERS[last_col]}{last_row}")

    def print_titles(self, first_row: int, last_row: int | None = None, columns: int = 0) -> None:
        """Repeat rows `first_row`..`last_row` (1-based) and the first `columns` columns at
        the top and left of every printed page."""
        self.title_rows = (first_row, last_row or first_row)
        self.title_columns = columns

    def auto_filter(self, header_row: int, columns: int, last_row: int | None = None) -> None:
        """Filter buttons on `header_row` (1-based) over `columns` columns down to the last
        row written (or `last_row`)."""
        last = max(last_row or self.rows, header_row)
        self.filter_ref = f"A{header_row}:{_LETTERS[columns - 1]}{last}"

    def close(self) -> None:
        self._flush()
        tail = ["</sheetData>"]
        if self.filter_ref:
            tail.append(f'<autoFilter ref="{self.filter_ref}"/>')
        if self.merges:
            tail.append(f'<mergeCells count="{len(self.merges)}">')
            tail += [f'<mergeCell ref="{ref}"/>' for ref in self.merges]
            tail.append("</mergeCells>")
        orientation = "landscape" if self.landscape else "portrait"
        tail.append(
            '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" '
            'footer="0.3"/>'
            f'<pageSetup paperSize="9" orientation="{orientation}"'
            + (' fitToWidth="1" fitToHeight="0"' if self.fit_width else "")
            + "/>"
            + (
                f"<headerFooter><oddFooter>{escape(self.footer)}</oddFooter></headerFooter>"
                if self.footer
                else ""
            )
            + "</worksheet>"
        )
        self._write("".join(tail))
        self._queue.put(None)
        self._thread.join()
        if self._failed is not None:
            raise self._failed
        self.stream.close()
        self.book._closed_sheet(self)

    def __enter__(self) -> SheetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class XlsxStream:
    """An .xlsx file written sheet by sheet. Use as a context manager; `close()` finishes it."""

    def __init__(
        self,
        path: Path | str,
        title: str = "",
        creator: str = "parbot",
        created: datetime | None = None,
        compresslevel: int = 1,
    ) -> None:
        self.zip = zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self.title, self.creator, self.created = title, creator, created
        self.compresslevel = compresslevel
        self.sheets: list[tuple[str, str | None]] = []  # (name, filter ref)
        self.titles: dict[int, str] = {}  # sheet index (0-based) → print titles reference
        self.footer = ""  # e.g. "&CTrang &P/&N", printed on every sheet
        self._open: SheetWriter | None = None

    def sheet(
        self,
        name: str,
        widths: Sequence[float] = (),
        freeze: tuple[int, int] | None = None,
        landscape: bool = True,
        fit_width: bool = True,
    ) -> SheetWriter:
        """Start the next sheet: `freeze` = (rows, columns) kept in view when scrolling;
        `fit_width` prints all columns across one page width."""
        if self._open is not None:
            raise RuntimeError("close the previous sheet first")
        index = len(self.sheets) + 1
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{index}.xml", FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        # ZipFile.open(ZipInfo) ignores the archive's level; `_compresslevel` is the slot in
        # 3.11 and an alias of `compress_level` from 3.13.
        info._compresslevel = self.compresslevel  # type: ignore[attr-defined]
        stream = self.zip.open(info, "w", force_zip64=True)
        self.sheets.append((name[:31], None))
        self._open = SheetWriter(
            self, stream, index, widths, freeze, landscape, index == 1, fit_width, self.footer
        )
        return self._open

    def _closed_sheet(self, sheet: SheetWriter) -> None:
        name, _ = self.sheets[sheet.index - 1]
        self.sheets[sheet.index - 1] = (name, sheet.filter_ref)
        quoted = "'" + name.replace("'", "''") + "'"
        parts = []
        if sheet.title_columns:
            parts.append(f"{quoted}!$A:${_LETTERS[sheet.title_columns - 1]}")
        if sheet.title_rows:
            first, last = sheet.title_rows
            parts.append(f"{quoted}!${first}:${last}")
        if parts:
            self.titles[sheet.index - 1] = ",".join(parts)
        self._open = None

    def _part(self, name: str, text: str) -> None:
        info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, text.encode("utf-8"))

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
        count = len(self.sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        self._part(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}"
            '<Override PartName="/docProps/core.xml" ContentType="application/'
            'vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>",
        )
        self._part(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        self._part("docProps/core.xml", self._core_xml())
        self._part(
            "docProps/app.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>parbot</Application></Properties>',
        )
        sheets = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _) in enumerate(self.sheets, start=1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(self._absolute(name, ref))}</definedName>"
            for i, (name, ref) in enumerate(self.sheets)
            if ref
        ) + "".join(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{escape(ref)}'
            "</definedName>"
            for i, ref in sorted(self.titles.items())
        )
        self._part(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        self._part(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}"
            f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        self._part("xl/styles.xml", _styles_xml())
        self.zip.close()

    @staticmethod
    def _absolute(sheet: str, ref: str) -> str:
        first, last = ref.split(":")

        def absolute(cell: str) -> str:
            letters = "".join(ch for ch in cell if ch.isalpha())
            return f"${letters}${cell[len(letters) :]}"

        quoted = "'" + sheet.replace("'", "''") + "'"
        return f"{quoted}!{absolute(first)}:{absolute(last)}"

    def _core_xml(self) -> str:
        created = (
            f'<dcterms:created xsi:type="dcterms:W3CDTF">'
            f"{self.created.strftime('%Y-%m-%dT%H:%M:%SZ')}</dcterms:created>"
            if self.created
            else ""
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(self.title)}</dc:title>"
            f"<dc:creator>{escape(self.creator)}</dc:creator>{created}"
            "</cp:coreProperties>"
        )

    def __enter__(self) -> XlsxStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.zip.close()


def _styles_xml() -> str:
    font = '<name val="Times New Roman"/><family val="1"/>'
    fonts = [
        f'<font><sz val="11"/>{font}</font>',
        f'<font><b/><sz val="11"/>{font}</font>',
        f'<font><b/><sz val="14"/>{font}</font>',
        f'<font><i/><sz val="11"/>{font}</font>',
        f'<font><i/><sz val="11"/><color rgb="FF595959"/>{font}</font>',
    ]
    fills = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
    ]
    for rgb in ("FFD9E1F2", *_VERDICT_FILLS, "FFF2F2F2"):
        fills.append(
            f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
        )
    thin = '<{0} style="thin"><color rgb="FFA6A6A6"/></{0}>'
    borders = [
        "<border><left/><right/><top/><bottom/><diagonal/></border>",
        "<border>"
        + "".join(thin.format(s) for s in ("left", "right", "top", "bottom"))
        + "<diagonal/></border>",
    ]
    top_wrap = '<alignment vertical="top" wrapText="1"/>'
    center = '<alignment horizontal="center" vertical="center" wrapText="1"/>'

    def xf(num: int, font_id: int, fill: int, border: int, align: str) -> str:
        return (
            f'<xf numFmtId="{num}" fontId="{font_id}" fillId="{fill}" borderId="{border}" '
            'xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" '
            f'applyAlignment="1">{align}</xf>'
        )

    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',  # DEFAULT
        xf(0, 1, 2, 1, center),  # HEADER
        xf(0, 0, 0, 1, top_wrap),  # TEXT
        xf(164, 0, 0, 1, '<alignment vertical="top"/>'),  # DATE
        xf(165, 0, 0, 1, '<alignment vertical="top"/>'),  # DATETIME
        xf(1, 0, 0, 1, '<alignment vertical="top"/>'),  # NUMBER
    ]
    xfs += [xf(0, 0, 3 + i, 1, center) for i in range(len(_VERDICT_FILLS))]  # verdicts
    xfs += [
        xf(0, 2, 0, 0, '<alignment horizontal="center" vertical="center" wrapText="1"/>'),
        xf(0, 3, 0, 0, '<alignment horizontal="center" vertical="center" wrapText="1"/>'),
        xf(0, 1, 3 + len(_VERDICT_FILLS), 1, '<alignment vertical="top" wrapText="1"/>'),
        xf(0, 0, 0, 1, '<alignment vertical="top"/>'),  # CODE
        xf(0, 4, 0, 1, '<alignment horizontal="center" vertical="center"/>'),  # COORDINATING
        xf(9, 0, 0, 1, '<alignment vertical="top"/>'),  # PERCENT
        xf(166, 0, 0, 1, '<alignment vertical="top"/>'),  # PERCENT_DECIMAL
    ]
    assert len(xfs) == len(Style)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
        '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/>'
        '<numFmt numFmtId="166" formatCode="0.0#%"/></numFmts>'
        f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        f'<borders count="{len(borders)}">{"".join(borders)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
