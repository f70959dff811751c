"""The outbox: every outgoing message, written in the transaction that caused it.

Producers call `enqueue` inside their own transaction, with an idempotency key that names the
cause (a reminder for agency A at level L on day D), so running the same job twice — or after
a crash — writes nothing new. The delivery worker moves rows through

    pending → sending → sent | failed | cancelled      (and back to pending for a retry)

A row goes to `sending` in its own committed transaction immediately before the platform is
called. Telegram has no idempotency key, so a row still `sending` after a crash may or may not
have been delivered; `recover_interrupted` marks such rows failed as "uncertain" instead of
sending them again (see scheduler/delivery.py for why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, column, func, insert, or_, text, update, values
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.outgoing import Outgoing
from storage.tables.shared import Outbox, utcnow

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
_INSERT_CHUNK = 500


@dataclass(frozen=True)
class OutboxItem:
    """What a producer wants sent; `enqueue_many` writes many in a few statements."""

    key: str
    channel: str
    chat_id: str
    message: Outgoing
    contact_id: int | None = None
    kind: str = "message"
    not_before: datetime | None = None
    group_key: str | None = None


@dataclass(frozen=True)
class Candidate:
    id: int
    channel: str
    chat_id: str
    kind: str


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` the outbox already holds.

    On PostgreSQL the keys are joined as a VALUES list: a long `IN (…)` against a table whose
    statistics are stale (the rows were written minutes ago) is planned as a sequential scan
    comparing every row with every key; a join hashes them once.
    """
    keys = list(keys)
    found: set[str] = set()
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(keys), _INSERT_CHUNK):
        chunk = keys[start : start + _INSERT_CHUNK]
        if postgres:
            wanted = values(column("key", String), name="wanted").data([(k,) for k in chunk])
            query = select(Outbox.idempotency_key).join(
                wanted, col(Outbox.idempotency_key) == wanted.c.key
            )
        else:
            query = select(Outbox.idempotency_key).where(col(Outbox.idempotency_key).in_(chunk))
        found.update(session.exec(query))
    return found


def enqueue(session: Session, item: OutboxItem, now: datetime | None = None) -> Outbox | None:
    """Add `item` unless its key is already in the outbox; returns the new row (flushed)."""
    rows = enqueue_many(session, [item], now)
    return rows[0] if rows else None


def enqueue_many(
    session: Session, items: Sequence[OutboxItem], now: datetime | None = None
) -> list[Outbox]:
    """Add every item whose key is new (keys repeated within `items` are added once)."""
    now = now or utcnow()
    seen = existing_keys(session, (i.key for i in items))
    rows: list[Outbox] = []
    for item in items:
        if item.key in seen:
            continue
        seen.add(item.key)
        rows.append(
            Outbox(
                idempotency_key=item.key,
                channel=item.channel,
                chat_id=item.chat_id,
                contact_id=item.contact_id,
                kind=item.kind,
                payload=item.message.to_json(),
                status=PENDING,
                not_before=item.not_before or now,
                created_at=now,
                group_key=item.group_key,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def insert_many(
    session: Session, items: Sequence[OutboxItem], now: datetime | None = None
) -> dict[str, int]:
    """Bulk-insert items whose keys the caller checked are new; returns key → row id.

    Core inserts, no ORM objects: a nationwide reminder run writes ~10,000 rows at once.
    """
    now = now or utcnow()
    if not items:
        return {}
    result = session.execute(
        insert(Outbox).returning(Outbox.idempotency_key, Outbox.id),
        [
            {
                "idempotency_key": item.key,
                "channel": item.channel,
                "chat_id": item.chat_id,
                "contact_id": item.contact_id,
                "kind": item.kind,
                "payload": item.message.to_json(),
                "status": PENDING,
                "attempts": 0,
                "not_before": item.not_before or now,
                "created_at": now,
                "sent_at": None,
                "error": None,
                "group_key": item.group_key,
                "message_id": None,
                "parts_sent": 0,
                "claimed_at": None,
            }
            for item in items
        ],
    )
    return {key: row_id for key, row_id in result.all()}  # type: ignore[misc]


def candidates(
    session: Session,
    now: datetime,
    limit: int,
    skip_kinds: Iterable[str] = (),
    channels: Iterable[str] | None = None,
) -> list[Candidate]:
    """Due pending rows, oldest first: what the worker should try next."""
    query = select(Outbox.id, Outbox.channel, Outbox.chat_id, Outbox.kind).where(
        Outbox.status == PENDING, Outbox.not_before <= now
    )
    skip = list(skip_kinds)
    if skip:
        query = query.where(Outbox.kind.not_in(skip))
    if channels is not None:
        query = query.where(Outbox.channel.in_(list(channels)))
    query = query.order_by(Outbox.not_before, Outbox.id).limit(limit)
    return [Candidate(*row) for row in session.exec(query).all()]


def claim(engine: Engine, row_id: int, now: datetime) -> bool:
    """Atomically move one pending row to `sending` and commit; False if someone else has it.

    One statement and a commit, nothing more: it runs right before the platform is called. On
    PostgreSQL the row is locked with FOR UPDATE SKIP LOCKED so concurrent workers pass over
    each other's rows instead of queueing on them; on SQLite the conditional UPDATE is atomic
    by itself (one writer at a time).
    """
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            result = connection.execute(
                text(
                    "UPDATE outbox SET status = :sending, attempts = attempts + 1, "
                    "claimed_at = :now WHERE id = (SELECT id FROM outbox WHERE id = :id "
                    "AND status = :pending FOR UPDATE SKIP LOCKED)"
                ),
                {"sending": SENDING, "pending": PENDING, "now": now, "id": row_id},
            )
        else:
            result = connection.execute(
                update(Outbox)
                .where(Outbox.id == row_id, Outbox.status == PENDING)
                .values(status=SENDING, attempts=Outbox.attempts + 1, claimed_at=now)
            )
        return result.rowcount == 1


def unclaim(engine: Engine, row_id: int) -> None:
    """Give a claimed row back before its request was made (the platform asked to wait)."""
    with engine.begin() as connection:
        connection.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.status == SENDING)
            .values(status=PENDING, attempts=Outbox.attempts - 1, claimed_at=None)
        )


def cancel_pending(engine: Engine, row_id: int, reason: str) -> bool:
    """A row no longer worth sending (the report arrived first): cancelled, if still pending."""
    with engine.begin() as connection:
        result = connection.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.status == PENDING)
            .values(status=CANCELLED, error=reason)
        )
        return result.rowcount == 1


def _set(engine: Engine, row_id: int, **values: object) -> None:
    with Session(engine) as session:
        session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))
        session.commit()


def record_part(engine: Engine, row_id: int, parts_sent: int, message_id: str) -> None:
    """One part of a split text went out: a retry resumes after it."""
    _set(engine, row_id, parts_sent=parts_sent, message_id=message_id)


def mark_sent(engine: Engine, row_id: int, message_id: str | None, now: datetime) -> None:
    _set(engine, row_id, status=SENT, message_id=message_id, sent_at=now, error=None)


def mark_failed(engine: Engine, row_id: int, reason: str, now: datetime) -> None:
    _set(engine, row_id, status=FAILED, error=reason, sent_at=None, claimed_at=now)


def mark_cancelled(engine: Engine, row_id: int, reason: str) -> None:
    _set(engine, row_id, status=CANCELLED, error=reason)


def retry_later(
    engine: Engine, row_id: int, not_before: datetime, reason: str, count_attempt: bool = True
) -> None:
    """Back to pending; a 429 does not count as an attempt (the platform asked us to wait)."""
    values: dict[str, object] = {"status": PENDING, "not_before": not_before, "error": reason}
    if not count_attempt:
        values["attempts"] = Outbox.attempts - 1
    _set(engine, row_id, **values)


def move_chat(engine: Engine, channel: str, old_chat_id: str, new_chat_id: str) -> None:
    """A group became a supergroup: every unsent row for it goes to the new id."""
    with Session(engine) as session:
        session.execute(
            update(Outbox)
            .where(
                Outbox.channel == channel,
                Outbox.chat_id == old_chat_id,
                or_(Outbox.status == PENDING, Outbox.status == SENDING),
            )
            .values(chat_id=new_chat_id)
        )
        session.commit()


def recover_interrupted(
    engine: Engine, now: datetime, older_than: datetime | None = None, channel: str | None = None
) -> int:
    """Rows left `sending` by a crashed worker: failed as uncertain, never sent twice.

    `older_than` limits it to attempts that started before then (several workers on
    PostgreSQL); a single worker starting up passes None and takes them all. `channel`: only
    that channel's rows (a worker taking over its send lease, scheduler/send_lease.py).
    """
    with Session(engine) as session:
        query = update(Outbox).where(Outbox.status == SENDING)
        if channel is not None:
            query = query.where(Outbox.channel == channel)
        if older_than is not None:
            query = query.where(or_(Outbox.claimed_at.is_(None), Outbox.claimed_at < older_than))
        result = session.execute(
            query.values(
                status=FAILED,
                error="uncertain: the worker stopped during the send; not repeated",
                claimed_at=now,
            )
        )
        session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]


def retry_failed(session: Session, ids: Iterable[int], now: datetime) -> int:
    """An operator's decision to send failed rows again (e.g. after checking with the user)."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(ids)), Outbox.status == FAILED)
        .values(status=PENDING, not_before=now, error=None, parts_sent=0)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def status_counts(session: Session, group_key: str | None = None) -> dict[str, int]:
    query = select(Outbox.status, func.count()).group_by(Outbox.status)
    if group_key is not None:
        query = query.where(Outbox.group_key == group_key)
    return {status: count for status, count in session.exec(query).all()}


def reason_of(error: str | None) -> str:
    """The reason code in front of an error ("blocked: …" → "blocked")."""
    if not error:
        return "unknown"
    return error.split(":", 1)[0].strip() or "unknown"


def failure_reasons(
    session: Session, group_key: str | None = None, kind: str | None = None
) -> dict[str, int]:
    query = select(Outbox.error).where(Outbox.status == FAILED)
    if group_key is not None:
        query = query.where(Outbox.group_key == group_key)
    if kind is not None:
        query = query.where(Outbox.kind == kind)
    counts: dict[str, int] = {}
    for error in session.exec(query).all():
        reason = reason_of(error)
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def payload(row: Outbox) -> Outgoing:
    return Outgoing.from_json(row.payload)
