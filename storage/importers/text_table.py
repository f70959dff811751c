"""The extracted text of a plan: the appendix is tab-separated, one table row per line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path


def read_rows(path: Path) -> Iterator[tuple[int, Sequence[str | None]]]:
    from storage.importers import ImportFileError

    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ImportFileError(f"{path.name} không phải tệp văn bản")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} không phải văn bản UTF-8") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line.split("\t")
