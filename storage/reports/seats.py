"""Where a report reader sits (`core.auth.Seat`), read from the agency table.

The agencies under a seat are those whose `parent_id` points at it (a district's communes).
A provincial body that directs the plan is recognised from data and settings, never code:
the agency that issues the compiled report (`PARBOT_REPORT_ISSUER`, Sở Nội vụ by default)
and the plan's issuer (`Plan.issuer`, "UBND tỉnh Quảng Nam") — matched by name or alias, or
its office ("Văn phòng UBND tỉnh …"), where the province's leaders are linked.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from core.auth import Seat
from core.text import fold
from storage.tables.shared import Agency, Plan

_OFFICE = "van phong "


def directs_plan(session: Session, agency: Agency, report_issuer: str) -> bool:
    if report_issuer and agency.code.upper() == report_issuer.upper():
        return True
    issuers = {fold(i) for i in session.execute(select(Plan.issuer)).scalars() if i}
    wanted = issuers | {_OFFICE + i for i in issuers}
    names = {fold(agency.name), *(fold(a) for a in agency.alias_list())}
    return bool(names & wanted)


def seat_of(session: Session, agency_id: int | None, report_issuer: str) -> Seat:
    """The seat of a reader linked to `agency_id` (None: linked to no agency)."""
    agency = session.get(Agency, agency_id) if agency_id is not None else None
    if agency is None:
        return Seat(None)
    below = session.execute(
        select(Agency.code).where(Agency.parent_id == agency.id).order_by(Agency.code)
    ).scalars()
    return Seat(agency.code, tuple(below), directs_plan(session, agency, report_issuer))
