"""The OA token pair and pending consents.

`lock` is the first statement of a refresher's transaction: an UPDATE of the one token row,
which PostgreSQL holds as a row lock and SQLite as its write lock until commit, so across
processes one refresher at a time talks to Zalo, and the next one reads the pair it saved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update

from storage.tables.zalo import ZaloOAToken, ZaloOAuthPending

TOKEN_ID = 1
PENDING_FOR = timedelta(hours=1)


def current(session: Session) -> ZaloOAToken | None:
    return session.get(ZaloOAToken, TOKEN_ID, populate_existing=True)


def lock(session: Session) -> ZaloOAToken | None:
    """Take the refresh lock (until this session commits or rolls back); the fresh row."""
    session.exec(
        update(ZaloOAToken)
        .where(col(ZaloOAToken.id) == TOKEN_ID)
        .values(lock_version=ZaloOAToken.lock_version + 1)
    )
    return current(session)


def save_pair(
    session: Session,
    access: str,
    refresh: str,
    expires_at: datetime,
    now: datetime,
    oa_id: str | None = None,
) -> ZaloOAToken:
    row = current(session) or ZaloOAToken(id=TOKEN_ID)
    row.access_token, row.refresh_token = access, refresh
    row.access_expires_at, row.updated_at, row.state = expires_at, now, "ok"
    if oa_id:
        row.oa_id = oa_id
    session.add(row)
    return row


def mark_lost(session: Session, now: datetime) -> None:
    row = current(session)
    if row is not None:
        row.state, row.access_token, row.updated_at = "lost", "", now
        session.add(row)


def add_pending(session: Session, state: str, verifier: str, now: datetime) -> None:
    session.exec(
        delete(ZaloOAuthPending).where(col(ZaloOAuthPending.created_at) < now - PENDING_FOR)
    )
    session.add(ZaloOAuthPending(state=state, code_verifier=verifier, created_at=now))


def take_pending(session: Session, state: str, now: datetime) -> str | None:
    """The PKCE verifier of a consent started here within the hour (single use)."""
    row = session.get(ZaloOAuthPending, state)
    if row is None:
        return None
    session.delete(row)
    created = row.created_at
    return row.code_verifier if created >= now - PENDING_FOR else None


def pending_states(session: Session) -> list[str]:
    return list(session.exec(select(ZaloOAuthPending.state)))
