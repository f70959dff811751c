"""Telling staff about a Zalo problem through the outbox (once per cause, by its key).

A broken Zalo channel cannot carry its own alarm, so the notice goes to every active staff
contact on the other channels (and on the same one too: it may be back by the time it is sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.outgoing import Outgoing
from storage.outbox import OutboxItem, enqueue_many
from storage.tables.shared import Contact


def tell_staff(
    session: Session,
    key: str,
    text: str,
    now: datetime,
    roles: Iterable[str] = ("admin",),
    skip_channel: str | None = None,
) -> int:
    """Enqueue `text` for every active contact with one of `roles`; returns how many rows."""
    query = select(Contact).where(col(Contact.role).in_(list(roles)), Contact.active)
    items = [
        OutboxItem(
            key=f"{key}:{c.id}",
            channel=c.channel,
            chat_id=c.chat_id,
            message=Outgoing(text),
            contact_id=c.id,
            kind="zalo_alert",
        )
        for c in session.exec(query)
        if c.channel != skip_channel and c.channel != "console"
    ]
    return len(enqueue_many(session, items, now))


def tell_staff_now(engine: Engine, key: str, text: str, now: datetime, **kw: object) -> int:
    with Session(engine) as session:
        count = tell_staff(session, key, text, now, **kw)  # type: ignore[arg-type]
        session.commit()
    return count


def contact_id_of(engine: Engine, channel: str, chat_id: str) -> int | None:
    """The linked contact of a chat (FileLinks issue links for a contact)."""
    with Session(engine) as session:
        return session.exec(
            select(Contact.id).where(Contact.channel == channel, Contact.chat_id == chat_id)
        ).first()


def is_linked(engine: Engine, channel: str, user_id: str) -> bool:
    with Session(engine) as session:
        found = session.exec(
            select(Contact.id).where(Contact.channel == channel, Contact.user_id == user_id)
        ).first()
    return found is not None
