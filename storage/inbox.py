"""The durable inbox's repository: record an update (committed), read a chat's pending updates
in order, mark them done, and claim a chat so one process at a time works through it.

The claim is what keeps one chat's updates in order across worker processes. PostgreSQL: a
session advisory lock on a hash of (channel, chat), taken with `pg_try_advisory_lock` on a
connection held for the drain and released by the server if the process dies — another worker
then continues the chat at its first unprocessed update. SQLite is one process: the caller's
in-process bookkeeping (bot/chat/inbox.py) is the claim.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from storage.tables.inbox import InboxUpdate

TABLE = InboxUpdate.__table__


@dataclass(frozen=True)
class Pending:
    id: int
    payload: str


def record(
    engine: Engine,
    channel: str,
    update_key: str,
    chat_key: str,
    payload: str,
    now: datetime,
    seq: int = 0,
) -> bool:
    """Store the update and commit; False when it was already there (a re-delivery)."""
    values = {
        "channel": channel,
        "update_key": update_key[:128],
        "chat_key": chat_key[:64],
        "seq": seq,
        "payload": payload,
        "received_at": now,
    }
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(TABLE)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
        .returning(TABLE.c.id)
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None


def pending_chats(
    engine: Engine, limit: int = 100, received_before: datetime | None = None
) -> list[tuple[str, str]]:
    """Chats with unprocessed updates, those waiting longest first."""
    oldest = func.min(TABLE.c.id)
    query = (
        select(TABLE.c.channel, TABLE.c.chat_key)
        .where(TABLE.c.processed_at.is_(None))
        .group_by(TABLE.c.channel, TABLE.c.chat_key)
        .order_by(oldest)
        .limit(limit)
    )
    if received_before is not None:
        query = query.where(TABLE.c.received_at < received_before)
    with engine.connect() as connection:
        return [(row[0], row[1]) for row in connection.execute(query)]


def pending_of(engine: Engine, channel: str, chat_key: str, limit: int = 20) -> list[Pending]:
    """The chat's unprocessed updates in the platform's order."""
    query = (
        select(TABLE.c.id, TABLE.c.payload)
        .where(
            TABLE.c.processed_at.is_(None),
            TABLE.c.channel == channel,
            TABLE.c.chat_key == chat_key,
        )
        .order_by(TABLE.c.seq, TABLE.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [Pending(row[0], row[1]) for row in connection.execute(query)]


def mark_done(engine: Engine, row_id: int, now: datetime, error: str | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(TABLE)
            .where(TABLE.c.id == row_id)
            .values(processed_at=now, error=error[:200] if error else None)
        )


def prune(engine: Engine, before: datetime) -> int:
    """Forget processed updates received before `before` (the dispatcher's update ids still
    stop a late re-delivery for a week)."""
    with engine.begin() as connection:
        result = connection.execute(
            delete(TABLE).where(TABLE.c.processed_at.is_not(None), TABLE.c.received_at < before)
        )
        return result.rowcount or 0


def counts(engine: Engine) -> dict[str, int]:
    """{"pending": …, "processed": …} (for operators and the bench)."""
    done = func.count(TABLE.c.processed_at)
    with engine.connect() as connection:
        total, processed = connection.execute(select(func.count(), done)).one()
    return {"pending": int(total) - int(processed), "processed": int(processed)}


def _chat_lock_key(connection: Connection, channel: str, chat_key: str) -> int:
    key: int = connection.execute(
        text("SELECT hashtextextended(:k, 0)"), {"k": f"parbot-inbox:{channel}:{chat_key}"}
    ).scalar_one()
    return key


@contextlib.contextmanager
def chat_claim(engine: Engine, channel: str, chat_key: str) -> Iterator[bool]:
    """Whether this process may work through the chat now (True), for the block's duration.

    PostgreSQL: a session advisory lock on a connection held for the block; False when another
    worker holds it (it works through the chat, including what arrived meanwhile). SQLite:
    always True — one process, whose runner never drains a chat twice at once.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = engine.connect()
    try:
        key = _chat_lock_key(connection, channel, chat_key)
        got = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        )
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
    finally:
        connection.close()
