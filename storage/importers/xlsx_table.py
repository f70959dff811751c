"""Excel appendices: every sheet is read until one holds the task table's header."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from core.plan_table import map_header


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    import openpyxl

    from storage.importers import ImportFileError
    from storage.importers.office import check_office_file

    check_office_file(path, "Excel (.xlsx)")  # before openpyxl inflates anything
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFileError(f"{path.name} không phải tệp Excel (.xlsx) hợp lệ") from exc
    try:
        for sheet in book.worksheets:
            try:
                rows = [
                    (n, ["" if v is None else str(v) for v in values])
                    for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                ]
            except Exception as exc:  # a damaged sheet's XML: lxml, zipfile, ValueError…
                raise ImportFileError(f"{path.name} không phải tệp Excel (.xlsx) hợp lệ") from exc
            if any(map_header(cells) is not None for _, cells in rows[:20]):
                yield from rows
                return
    finally:
        book.close()
