"""What /healthz and /metrics read from the database, so that every worker tells the same.

Counts come from the tables every worker writes (the outbox, the processed updates, the send
budget), not from one process's memory: with several workers behind a proxy, whichever answers
a scrape reports the whole deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.outbox import PENDING
from storage.tables.chat import ProcessedUpdate
from storage.tables.sending import SendBudget
from storage.tables.shared import Outbox


@dataclass(frozen=True)
class OutboxLag:
    due: int  # pending rows whose time has come
    oldest_seconds: float  # how long the oldest of them has waited (0 when none)


def reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def outbox_lag(session: Session, now: datetime) -> OutboxLag:
    due, oldest = session.exec(
        select(func.count(), func.min(Outbox.not_before)).where(
            Outbox.status == PENDING, Outbox.not_before <= now
        )
    ).one()
    age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    return OutboxLag(int(due), max(0.0, age))


def outbox_by_channel_status(session: Session) -> dict[tuple[str, str], int]:
    rows = session.exec(
        select(Outbox.channel, Outbox.status, func.count()).group_by(Outbox.channel, Outbox.status)
    ).all()
    return {(channel, status): int(count) for channel, status, count in rows}


def updates_since(session: Session, since: datetime) -> int:
    """Updates processed (recorded once each, by every worker) since then."""
    return int(
        session.exec(
            select(func.count())
            .select_from(ProcessedUpdate)
            .where(col(ProcessedUpdate.processed_at) >= since)
        ).one()
    )


def send_budgets(session: Session) -> list[SendBudget]:
    return list(session.exec(select(SendBudget).order_by(SendBudget.channel)).all())


def minute_ago(now: datetime) -> datetime:
    return now - timedelta(minutes=1)
