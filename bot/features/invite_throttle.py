"""Coordinators told when the global throttle on wrong invite codes trips.

Storage counts the wrong codes and decides the wait (`storage.chat.invites`); telling people
is wording, so it is done here, in the same transaction as the failure that tripped it, through
the outbox (delivered within the send window and rate limits, once per coordinator per trip).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.model import UserRole
from core.outgoing import Outgoing
from messages.render import render
from storage.chat.invites import GLOBAL_FAILURES, GLOBAL_WINDOW, LONGEST_WAIT
from storage.outbox import OutboxItem, enqueue_many
from storage.tables.shared import Contact


def tell_coordinators(session: Session, now: datetime, wait: timedelta) -> int:
    """Queue a warning to every active coordinator; returns how many were queued."""
    coordinators = session.execute(
        select(Contact).where(
            Contact.role == UserRole.COORDINATOR.value,
            Contact.active.is_(True),
        )
    ).scalars()
    text = render(
        "invites/throttle_tripped.j2",
        failures=GLOBAL_FAILURES,
        minutes=int(GLOBAL_WINDOW.total_seconds() // 60),
        seconds=int(wait.total_seconds()),
        longest=int(LONGEST_WAIT.total_seconds() // 60),
    )
    stamp = now.strftime("%Y%m%dT%H%M%S")
    items = [
        OutboxItem(
            key=f"invite-throttle:{stamp}:{contact.id}",
            channel=contact.channel,
            chat_id=contact.chat_id,
            message=Outgoing(text),
            contact_id=contact.id,
            kind="invite_throttle",
        )
        for contact in coordinators
    ]
    return len(enqueue_many(session, items, now)) if items else 0
