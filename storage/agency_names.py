"""An agency named by what someone typed (`core.names.match_agency` over the directory)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from core.names import NamedAgency, NameMatch, match_agency
from storage.tables.shared import Agency


def resolve_agency(session: Session, typed: str) -> NameMatch:
    """Active agencies by code, name or alias; an exact code wins even for an inactive one."""
    rows = session.execute(select(Agency)).scalars().all()
    by_code = [a for a in rows if a.code == typed.strip().upper()]
    if by_code:
        return NameMatch(by_code[0].code, [(by_code[0].code, by_code[0].name)])
    return match_agency(
        typed,
        (NamedAgency(a.code, a.name, tuple(a.alias_list())) for a in rows if a.active),
    )


def agency_count(session: Session) -> int:
    return len(session.execute(select(Agency.id).limit(1)).all())
