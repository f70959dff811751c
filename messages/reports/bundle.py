"""The evidence bundle: every evidence file of the reports in scope, in one zip.

Paths are `<task ref>/<agency code> - <agency name>/<file name>`, so a clerk can forward one
agency's folder as it is. The same file name from two versions of a report keeps both, the
later one suffixed " (lần N)" (N the report version); an identical file (same bytes, same
name) is stored once. A CSV index (UTF-8 with BOM, so Excel opens it with its diacritics)
lists every file with its report version, time and SHA-256. Entries carry a fixed timestamp:
the same data gives the same zip.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path, PurePosixPath

from core.report_model import EvidenceInfo, ReportData, ReportInfo
from core.text import nfc
from messages.reports.labels import labels

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(text: str, limit: int = 120) -> str:
    """A path segment that every OS and unzip tool accepts (NFC, no separators)."""
    cleaned = _UNSAFE.sub("_", nfc(text)).strip(" .")
    return cleaned[:limit] or "_"


def _versioned(name: str, version: int) -> str:
    path = PurePosixPath(name)
    return f"{path.stem} (lần {version}){path.suffix}"


def write_bundle(
    data: ReportData,
    files: Iterable[tuple[ReportInfo, EvidenceInfo, bytes]],
    path: Path | str,
    tz: tzinfo,
) -> int:
    """Write the zip to `path` from `files` (streamed: `storage.reports.query.iter_evidence`
    yields them in task, agency, version order); returns the number of files stored."""
    words = labels()
    refs = {t.id: t.ref for t in data.tasks}
    rows: list[list[str | int]] = []
    seen: dict[str, str] = {}  # zip path → sha256
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for report, evidence, content in files:
            agency = data.agencies[report.agency_id]
            folder = f"{safe_name(refs[report.task_id])}/{safe_name(agency.code)} - " + (
                safe_name(agency.name, 80)
            )
            name = safe_name(evidence.file_name)
            digest = hashlib.sha256(content).hexdigest()
            target = f"{folder}/{name}"
            if target in seen and seen[target] != digest:
                target = f"{folder}/{_versioned(name, report.version)}"
            if seen.get(target) == digest:
                continue
            seen[target] = digest
            info = zipfile.ZipInfo(target, FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, content)
            rows.append(
                [
                    refs[report.task_id],
                    agency.code,
                    agency.name,
                    report.version,
                    report.submitted_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                    evidence.file_name,
                    target,
                    len(content),
                    digest,
                ]
            )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(list(words.manifest_columns))
        writer.writerows(rows)
        info = zipfile.ZipInfo(str(words.manifest_name), FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, "\ufeff" + buffer.getvalue())
    return len(rows)
