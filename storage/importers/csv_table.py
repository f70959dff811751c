"""CSV exports of the appendix: comma, semicolon or tab separated, in the encodings Excel
writes (UTF-8 with or without BOM, UTF-16 "Unicode text", Windows-1258; see encoding.py).

A cell may be as long as the file itself (Python's csv module stops at 131,072 characters
unless told otherwise); a row the csv module cannot read is named in the message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from storage.importers.encoding import decode_table, looks_binary


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    from storage.importers import MAX_BYTES, ImportFileError

    raw = path.read_bytes()
    try:
        text = decode_table(raw)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} không phải tệp CSV (mã hoá UTF-16 bị hỏng)") from exc
    if looks_binary(text):
        raise ImportFileError(f"{path.name} không phải tệp CSV")
    # Any field up to the file limit: the file was size-checked before it was read.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES, len(raw)))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel_tab if text[:8192].count("\t") > text[:8192].count(",") else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                f"{path.name}, dòng {number + 1} (dòng {reader.line_num} của tệp): "
                f"không đọc được dòng CSV ({exc})"
            ) from exc
        number += 1
        yield number, cells
