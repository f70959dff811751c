"""Zip archives opened with limits, checked before anything inflates them.

A .docx, an .xlsx and a .zip are zip archives. Their size on disk says nothing about what they
inflate to: a 1.6 MB .docx whose `word/document.xml` holds 1 GB of zeros took the importer
past 6 GB of memory. So every zip is looked at through its central directory first — the
number of members, the inflated size each one declares, and the ratio of inflated to
compressed size — and refused when any passes a limit, before a parser sees it.

The declared sizes are enough: Python's `zipfile` (which python-docx and openpyxl read
through) stops each member at the size its header declares and fails its CRC check if the
data say otherwise, so a member cannot inflate past what was checked here. Memory is then
bounded by `max_total` (inflated bytes a parser may be handed) times the parser's overhead:
`parbot plan import` peaked at 408 MB on a .docx of 60 MB inflated (13 MB on disk), and at
about 150 MB refusing a 1 GB bomb (measured on the shared 2-core machine) — so the bound is
about 0.5 GB for anything accepted.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

MB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """What an office file or an evidence zip may hold.

    A plan's appendix inflates to a few MB (the 2024 plan: 0.9 MB from 44 KB); XML compresses
    about 5–25 times, so a ratio of 200 leaves room for honest files and none for a bomb (zeros
    compress about 1,000 times). Members whose inflated size is small are exempt from the
    ratio (an empty sheet compresses very well and harms no one).
    """

    max_members: int = 2000
    max_total: int = 64 * MB  # all members inflated together
    max_ratio: float = 200.0  # inflated / compressed, per member
    ratio_floor: int = 1 * MB  # members smaller than this are not ratio-checked


OFFICE_LIMITS = ZipLimits()


class ArchiveRefused(ValueError):
    """The archive is not a readable zip or passes a limit; `reason` names which."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # "not_zip", "members", "total", "ratio"
        self.detail = detail


@dataclass(frozen=True)
class ZipSummary:
    members: int
    total: int  # declared inflated bytes
    names: frozenset[str]


def inspect_zip(source: Path | bytes | BinaryIO, limits: ZipLimits = OFFICE_LIMITS) -> ZipSummary:
    """The archive's members, or `ArchiveRefused`: reads the central directory only."""
    handle: Path | BinaryIO = BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveRefused("not_zip", str(exc)[:200]) from exc
    if len(infos) > limits.max_members:
        raise ArchiveRefused("members", str(len(infos)))
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_total:
            raise ArchiveRefused("total", str(total))
        if info.file_size >= limits.ratio_floor:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ArchiveRefused("ratio", f"{info.filename}: {ratio:.0f}")
    return ZipSummary(len(infos), total, frozenset(i.filename for i in infos))
