"""CSV exports of the appendix (comma or semicolon separated, UTF-8 with or without BOM)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    from storage.importers import ImportFileError

    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ImportFileError(f"{path.name} không phải tệp CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1258", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    yield from enumerate(reader, start=1)
