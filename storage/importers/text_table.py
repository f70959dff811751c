"""The extracted text of a plan: the appendix is tab-separated, one table row per line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from storage.importers.encoding import decode_table, looks_binary


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    from storage.importers import ImportFileError

    raw = path.read_bytes()
    try:
        text = decode_table(raw)  # UTF-8 (BOM or not), UTF-16 "Unicode text", Windows-1258
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} không phải tệp văn bản") from exc
    if looks_binary(text):
        raise ImportFileError(f"{path.name} không phải tệp văn bản")
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line.split("\t")
