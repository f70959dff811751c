"""Reading and writing the shared send budget (storage/tables/sending.py).

Every function is one short transaction: the budget is touched when a worker takes a channel
over, and when the platform answers 429 — never per message.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.tables.sending import SendBudget
from storage.tables.shared import Outbox


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _row(session: Session, channel: str) -> SendBudget:
    row = session.get(SendBudget, channel)
    if row is None:
        row = SendBudget(channel=channel)
        session.add(row)
        session.flush()
    return row


def take_over(engine: Engine, channel: str, holder: str, now: datetime) -> datetime | None:
    """`holder` now sends on `channel`; returns until when it must stay silent (a 429's pause
    the previous holder was told about), or None."""
    with Session(engine, expire_on_commit=False) as session:
        row = _row(session, channel)
        row.holder, row.held_since = holder, now
        session.add(row)
        session.commit()
        paused = _aware(row.paused_until)
    return paused if paused is not None and paused > now else None


def give_up(engine: Engine, channel: str, holder: str) -> None:
    """A clean stop: the channel has no holder until another worker takes it."""
    with Session(engine) as session:
        session.execute(
            update(SendBudget)
            .where(col(SendBudget.channel) == channel, col(SendBudget.holder) == holder)
            .values(holder=None, held_since=None)
        )
        session.commit()


def rate_limited(engine: Engine, channel: str, until: datetime) -> None:
    """The platform said 429: count it, and nobody sends on `channel` before `until`."""
    with Session(engine) as session:
        row = _row(session, channel)
        session.execute(
            update(SendBudget)
            .where(col(SendBudget.channel) == channel)
            .values(rate_limited=SendBudget.rate_limited + 1)
        )
        current = _aware(row.paused_until)
        if current is None or current < until:
            session.execute(
                update(SendBudget)
                .where(col(SendBudget.channel) == channel)
                .values(paused_until=until)
            )
        session.commit()


def recent_sends(engine: Engine, channel: str, since: datetime) -> list[tuple[str, datetime]]:
    """(chat, when) of every send started on `channel` since then, whoever started it: what the
    platform's sliding windows still count when a new holder takes over.

    "When" is the latest stamp the row has: its answer (`sent_at`) or its end as failed or
    uncertain (`claimed_at` is moved there), else its claim. The request left somewhere between
    the claim and the answer; the claim can come a commit and a wait for the window before it
    (tens of milliseconds on a busy server), which counted the old holder's sends as older than
    they were and let the new holder start a little too fast (one 429 in three runs of the
    scale-out bench). The answer is never earlier than the request, so the window is only
    ever counted full a few milliseconds longer than it was.
    """
    with Session(engine) as session:
        rows = session.exec(
            select(Outbox.chat_id, Outbox.claimed_at, Outbox.sent_at).where(
                Outbox.channel == channel,
                or_(col(Outbox.claimed_at) >= since, col(Outbox.sent_at) >= since),
            )
        ).all()
    found: list[tuple[str, datetime]] = []
    for chat, claimed, sent in rows:
        stamps = [t for t in (_aware(claimed), _aware(sent)) if t is not None]
        if stamps:
            found.append((chat, max(stamps)))
    return found
