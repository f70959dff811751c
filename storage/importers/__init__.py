"""Plan importers: one per file type, chosen by extension, all ending in core.plan_table.

Each reader turns a file into (row number, cells) pairs; `core.plan_table.parse_rows` reads
the appendix from them. Readers check size and type first so that a 50 MB file, an empty
file or a binary renamed .docx gets a clear message instead of a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from core.model import PlanDraft
from core.plan_table import PlanFormatError, parse_rows

MAX_BYTES = 20 * 1024 * 1024

Rows = Iterable[tuple[int, Sequence[str | None]]]


class ImportFileError(PlanFormatError):
    """The file cannot be read at all (missing, empty, too large, wrong type)."""


def _reader(suffix: str) -> Callable[[Path], Rows]:
    from storage.importers import csv_table, docx_table, text_table, xlsx_table

    readers: dict[str, Callable[[Path], Rows]] = {
        ".txt": text_table.read_rows,
        ".tsv": text_table.read_rows,
        ".docx": docx_table.read_rows,
        ".xlsx": xlsx_table.read_rows,
        ".csv": csv_table.read_rows,
    }
    if suffix not in readers:
        raise ImportFileError(
            f"không hỗ trợ tệp {suffix or '(không có đuôi)'}; dùng .docx, .xlsx, .csv hoặc .txt"
        )
    return readers[suffix]


def check_file(path: Path, max_bytes: int = MAX_BYTES) -> None:
    if not path.exists() or not path.is_file():
        raise ImportFileError(f"không tìm thấy tệp: {path}")
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(f"tệp rỗng: {path.name}")
    if size > max_bytes:
        raise ImportFileError(
            f"tệp quá lớn: {size / 1024 / 1024:.1f} MB (tối đa {max_bytes // 1024 // 1024} MB)"
        )


def read_plan(path: Path | str, max_bytes: int = MAX_BYTES) -> PlanDraft:
    """The areas and leaf tasks of the appendix table in `path`."""
    path = Path(path)
    check_file(path, max_bytes)
    reader = _reader(path.suffix.lower())
    return parse_rows(reader(path))
