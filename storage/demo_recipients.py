"""Demo focal points who receive messages on the console, so a broadcast can be tried there.

`parbot demo seed` writes one demo reporter per agency, inactive so that nothing is queued
for them. A coordinator trying `/nhacnho` on the console would then find nobody to nudge; so
a handful of them — focal points of real seeded agencies, on the `console` channel — are
made reachable. The console prints what is delivered to them under their name, the way their
phones would show it; `parbot demo clear` makes them unreachable again. Being real focal
points, they also receive the reminders parbot sends on its schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select, update
from sqlmodel import Session, col

from storage.demo import DEMO_CHANNEL, DEMO_USER_PREFIX
from storage.tables.shared import Agency, Contact

REACHABLE = ("STP", "STC", "SKHDT", "STTTT", "H-TAMKY")  # departments and a district


@dataclass(frozen=True)
class DemoRecipient:
    chat_id: str
    name: str
    agency: str


def _demo_contacts() -> object:
    return (col(Contact.channel) == DEMO_CHANNEL) & col(Contact.user_id).like(
        f"{DEMO_USER_PREFIX}%"
    )


def link_demo_recipients(session: Session) -> list[DemoRecipient]:
    """Make the demo focal points of REACHABLE agencies active; those linked, in that order."""
    wanted = [f"{DEMO_USER_PREFIX}{code}" for code in REACHABLE]
    rows = session.execute(
        select(Contact, col(Agency.name))
        .join(Agency, col(Agency.id) == Contact.agency_id)
        .where(col(Contact.user_id).in_(wanted), col(Contact.channel) == DEMO_CHANNEL)
    ).all()
    pairs = cast("list[tuple[Contact, str]]", rows)
    found = {contact.user_id: (contact, agency) for contact, agency in pairs}
    linked: list[DemoRecipient] = []
    for user_id in wanted:
        if user_id not in found:
            continue
        contact, agency = found[user_id]
        contact.active = True
        session.add(contact)
        linked.append(DemoRecipient(contact.chat_id, contact.display_name, agency))
    session.flush()
    return linked


def unlink_demo_recipients(session: Session) -> int:
    """Every demo contact unreachable again (`parbot demo clear`)."""
    done = session.execute(
        update(Contact).where(_demo_contacts(), col(Contact.active)).values(active=False)  # type: ignore[arg-type]
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def demo_recipient(session: Session, chat_id: str) -> DemoRecipient | None:
    """The reachable demo focal point behind a console chat id, if it is one."""
    if not chat_id.startswith(DEMO_USER_PREFIX):
        return None
    row = session.execute(
        select(col(Contact.display_name), col(Agency.name))
        .join(Agency, col(Agency.id) == Contact.agency_id)
        .where(col(Contact.channel) == DEMO_CHANNEL, col(Contact.chat_id) == chat_id)
    ).first()
    return DemoRecipient(chat_id, row[0], row[1]) if row else None
