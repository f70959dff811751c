"""Focal points' seats: deputies, absences, and who receives an agency's reminders today.

The rule itself is `core.deputies.recipients`; this module reads what it needs in a few
set-based queries (focal points, their seats, and the leaders of agencies left with nobody).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlmodel import Session, col, select

from core.deputies import FocalPerson, recipients
from core.model import UserRole
from storage.tables.extensions import FocalSeat
from storage.tables.shared import Contact

_CHUNK = 500


def recipients_by_agency(
    session: Session, agency_ids: Iterable[int], day: date
) -> dict[int, list[Contact]]:
    """Agency → the contacts that receive its reminders and nudges on `day` (core rule).

    Leaders are read only for the agencies whose focal points are all away or unreachable
    (a handful), so a nationwide sweep reads about what it read before deputies existed.
    """
    ids = sorted(set(agency_ids))
    focal = _contacts(session, ids, UserRole.FOCAL)
    contact_ids = [c.id for people in focal.values() for c in people]
    seats: dict[int, FocalSeat] = {}
    for start in range(0, len(contact_ids), _CHUNK):
        for seat in session.exec(
            select(FocalSeat).where(
                col(FocalSeat.contact_id).in_(contact_ids[start : start + _CHUNK])
            )
        ).all():
            seats[seat.contact_id] = seat
    found: dict[int, list[Contact]] = {}
    uncovered: list[int] = []
    for agency_id in ids:
        people = focal.get(agency_id, [])
        by_id = {c.id: c for c in people}
        chosen = recipients([_person(c, seats.get(c.id)) for c in people], [], day)
        if chosen:
            found[agency_id] = [by_id[i] for i in chosen]
        else:
            uncovered.append(agency_id)
    for agency_id, leaders in _contacts(session, uncovered, UserRole.LEADER).items():
        active = [c for c in leaders if c.active]
        if active:
            found[agency_id] = active
    return found


def _contacts(session: Session, ids: list[int], role: UserRole) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(Contact)
            .where(
                col(Contact.agency_id).in_(ids[start : start + _CHUNK]),
                Contact.role == role.value,
            )
            .order_by(Contact.id)
        ).all()
        for contact in rows:
            found[contact.agency_id].append(contact)  # type: ignore[index]
    return found


def _person(contact: Contact, seat: FocalSeat | None) -> FocalPerson:
    if seat is None:
        return FocalPerson(contact.id, active=contact.active)
    return FocalPerson(contact.id, seat.deputy, contact.active, seat.away_from, seat.away_until)


def seat_of(session: Session, contact_id: int) -> FocalSeat | None:
    return session.get(FocalSeat, contact_id)


def set_deputy(
    session: Session, contact_id: int, deputy: bool, invited_by: int | None, now: datetime
) -> None:
    """Record how a focal point joined: through a deputy invite, or as a main focal point."""
    seat = session.get(FocalSeat, contact_id)
    if seat is None:
        if not deputy:
            return  # no row: a main focal point, never away
        seat = FocalSeat(contact_id=contact_id)
    seat.deputy, seat.invited_by, seat.updated_at = deputy, invited_by, now
    session.add(seat)
    session.flush()


def set_absence(
    session: Session, contact_id: int, start: date | None, end: date | None, now: datetime
) -> None:
    """Record (or, with None, clear) a focal point's absence."""
    seat = session.get(FocalSeat, contact_id) or FocalSeat(contact_id=contact_id)
    seat.away_from, seat.away_until, seat.updated_at = start, end, now
    session.add(seat)
    session.flush()


def deputies_of(session: Session, agency_id: int) -> list[Contact]:
    """The agency's active deputies (for /caidat: who stands in during an absence)."""
    rows = session.exec(
        select(Contact)
        .join(FocalSeat, col(FocalSeat.contact_id) == Contact.id)
        .where(
            Contact.agency_id == agency_id,
            Contact.role == UserRole.FOCAL.value,
            Contact.active == True,  # noqa: E712
            FocalSeat.deputy == True,  # noqa: E712
        )
        .order_by(Contact.id)
    ).all()
    return list(rows)


class SqlAbsenceStore:
    """`core.flows.absence.AbsenceStore` on one update's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def set_absence(
        self, contact_id: int, start: date | None, end: date | None, now: datetime
    ) -> None:
        set_absence(self.session, contact_id, start, end, now)

    def stand_ins(self, agency_id: int) -> tuple[list[str], list[str]]:
        deputies = [c.display_name for c in deputies_of(self.session, agency_id)]
        leaders = self.session.exec(
            select(Contact.display_name).where(
                Contact.agency_id == agency_id,
                Contact.role == UserRole.LEADER.value,
                Contact.active == True,  # noqa: E712
            )
        ).all()
        return deputies, list(leaders)
