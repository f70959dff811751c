"""Word appendices: the task table is found by its header wherever it is in the document.

python-docx repeats a merged cell's text across the cells it spans; core.plan_table expects
that (group rows) so cells are passed on as Word reports them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.plan_table import map_header

if TYPE_CHECKING:
    from docx.table import Table


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    import docx

    from storage.importers import ImportFileError
    from storage.importers.office import check_office_file

    check_office_file(path, "Word (.docx)")  # before python-docx inflates anything
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx, lxml and zipfile raise many types when damaged
        raise ImportFileError(f"{path.name} không phải tệp Word (.docx) hợp lệ") from exc
    tables = list(document.tables)
    for table in tables:
        for row in table.rows[:5]:
            if map_header([cell.text for cell in row.cells]) is not None:
                yield from _table_rows(tables, table)
                return
    # No header found: yield nothing, parse_rows says that no task table was found.


def _table_rows(tables: list[Table], first: Table) -> Iterator[tuple[int, Sequence[str | None]]]:
    """Rows of the task table and of any later tables that continue it (same column count)."""
    number = 0
    started = False
    columns = None
    for table in tables:
        if table is first:
            started = True
            columns = len(table.columns)
        if not started or len(table.columns) != columns:
            continue
        for row in table.rows:
            number += 1
            yield number, [cell.text for cell in row.cells]
