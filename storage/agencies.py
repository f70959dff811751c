"""Agencies and group phrases: loaded from data files, read into a core AgencyDirectory."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from core.agencies import AgencyDirectory, AgencyEntry
from core.model import AgencyKind
from core.text import clean
from storage.tables.shared import Agency, AgencyGroup

REQUIRED_AGENCY_COLUMNS = ("code", "name", "kind")


class AgencyFileError(ValueError):
    """An agency file we cannot load; the message names the row."""


@dataclass
class AgencyImportSummary:
    created: int = 0
    updated: int = 0


def _parse_kinds(text: str, where: str) -> tuple[AgencyKind, ...]:
    try:
        return tuple(AgencyKind(k.strip()) for k in text.split("|") if k.strip())
    except ValueError as exc:
        valid = ", ".join(k.value for k in AgencyKind)
        raise AgencyFileError(
            f"{where}: loại cơ quan không hợp lệ {text!r} (dùng: {valid})"
        ) from exc


def import_agencies(session: Session, path: Path) -> AgencyImportSummary:
    """Create or update agencies by code from a CSV (code, name, kind, parent, aliases, active)."""
    if not path.is_file():
        raise AgencyFileError(f"không tìm thấy tệp: {path}")
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_AGENCY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AgencyFileError("thiếu cột: " + ", ".join(missing))
    rows = list(reader)
    existing = {a.code: a for a in session.exec(select(Agency))}
    summary = AgencyImportSummary()
    parents: list[tuple[Agency, str]] = []
    for number, row in enumerate(rows, start=2):
        code = clean(row.get("code"))
        name = clean(row.get("name"))
        if not code or not name:
            raise AgencyFileError(f"dòng {number}: thiếu mã hoặc tên cơ quan")
        kind = _parse_kinds(row.get("kind") or "", f"dòng {number}")
        if len(kind) != 1:
            raise AgencyFileError(f"dòng {number}: cần đúng một loại cơ quan")
        agency = existing.get(code)
        if agency is None:
            agency = Agency(code=code, name=name, kind=kind[0].value)
            session.add(agency)
            existing[code] = agency
            summary.created += 1
        else:
            summary.updated += 1
        agency.name = name
        agency.kind = kind[0].value
        agency.aliases = "|".join(clean(a) for a in (row.get("aliases") or "").split("|") if a)
        agency.active = (row.get("active") or "1").strip().lower() not in ("0", "false", "no")
        if clean(row.get("parent")):
            parents.append((agency, clean(row.get("parent"))))
    session.flush()
    for agency, parent_code in parents:
        parent = existing.get(parent_code)
        if parent is None:
            raise AgencyFileError(f"{agency.code}: không có cơ quan cấp trên mã {parent_code}")
        agency.parent_id = parent.id
    session.flush()
    return summary


def import_groups(session: Session, path: Path) -> int:
    """Group phrases ("Các sở, ban, ngành" → department) from a CSV (phrase, kinds)."""
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    existing = {g.phrase: g for g in session.exec(select(AgencyGroup))}
    for number, row in enumerate(rows, start=2):
        phrase = clean(row.get("phrase"))
        kinds = _parse_kinds(row.get("kinds") or "", f"dòng {number}")
        group = existing.get(phrase) or AgencyGroup(phrase=phrase, kinds="")
        group.kinds = "|".join(k.value for k in kinds)
        session.add(group)
    session.flush()
    return len(rows)


def load_directory(session: Session) -> AgencyDirectory:
    agencies = [
        AgencyEntry(a.code, a.name, AgencyKind(a.kind), tuple(a.alias_list()), a.active)
        for a in session.exec(select(Agency).order_by(Agency.id))
    ]
    groups = {
        g.phrase: tuple(AgencyKind(k) for k in g.kinds.split("|") if k)
        for g in session.exec(select(AgencyGroup))
    }
    return AgencyDirectory(agencies, groups)


def agency_ids(session: Session) -> dict[str, int]:
    return {code: id_ for id_, code in session.exec(select(Agency.id, Agency.code))}
