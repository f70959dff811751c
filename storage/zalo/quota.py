"""The Bot Platform's monthly message quota, counted in both directions (zalo.md §1 [G]).

Zalo does not tell how much is left; parbot counts what it sends and receives, shows it in
`parbot outbox status`, and warns coordinators once a month when 80 % is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select, update

from storage.tables.zalo import ZaloQuota

WARN_AT = 0.8


@dataclass(frozen=True)
class Usage:
    channel: str
    month: str
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def count(engine: Engine, channel: str, now: datetime, n: int = 1) -> int:
    """Add `n` messages to this month's count; returns the new total."""
    month = month_of(now)
    with Session(engine) as session:
        changed = session.exec(
            update(ZaloQuota)
            .where(ZaloQuota.channel == channel, ZaloQuota.month == month)
            .values(used=ZaloQuota.used + n)
        ).rowcount
        if not changed:
            session.add(ZaloQuota(channel=channel, month=month, used=n))
            try:
                session.commit()
            except IntegrityError:  # another worker created the row first
                session.rollback()
                return count(engine, channel, now, n)
        else:
            session.commit()
        return usage(session, channel, now, 0).used


def usage(session: Session, channel: str, now: datetime, limit: int) -> Usage:
    month = month_of(now)
    row = session.exec(
        select(ZaloQuota).where(ZaloQuota.channel == channel, ZaloQuota.month == month)
    ).first()
    return Usage(channel, month, row.used if row else 0, limit)


def claim_warning(session: Session, channel: str, now: datetime) -> bool:
    """True once per month and channel: the caller then tells the coordinators."""
    changed = session.exec(
        update(ZaloQuota)
        .where(
            ZaloQuota.channel == channel,
            ZaloQuota.month == month_of(now),
            ZaloQuota.warned.is_(False),
        )
        .values(warned=True)
    ).rowcount
    return bool(changed)


def count_and_check(engine: Engine, channel: str, now: datetime, limit: int, n: int = 1) -> bool:
    """Count `n` messages; True exactly once a month, when the count first reaches 80 %."""
    used = count(engine, channel, now, n)
    if not limit or used < WARN_AT * limit:
        return False
    with Session(engine) as session:
        first = claim_warning(session, channel, now)
        session.commit()
    return first
