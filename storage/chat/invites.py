"""One-time invite codes: how a chat account becomes an agency's focal point (or another role).

Only a SHA-256 of each code is stored (a database dump reveals no usable code); codes carry
60 random bits and wrong guesses lock the account out for a while, so guessing is hopeless.
Redemption is a conditional UPDATE, so two users racing with the same code cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import Session

from core.model import UserRole
from storage.chat.state import ChatKey, link_contact
from storage.tables.chat import Invite, InviteLockout
from storage.tables.shared import Contact

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_LENGTH = 12
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=30)


class RedeemStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    LOCKED = "locked"


@dataclass(frozen=True)
class Redeemed:
    status: RedeemStatus
    contact: Contact | None = None
    locked_until: datetime | None = None
    failures_left: int = MAX_FAILURES


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What the user typed → the canonical code (case, spaces and dashes do not matter)."""
    return "".join(ch for ch in text.strip().upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def create_invite(
    session: Session,
    agency_id: int | None,
    role: UserRole,
    expires_at: datetime,
    created_by: str,
    now: datetime,
) -> str:
    """Store a new invite and return its code: the only time the code exists in clear."""
    code = new_code()
    session.add(
        Invite(
            code_hash=hash_code(code),
            agency_id=agency_id,
            role=role.value,
            created_by=created_by[:120],
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return code


def locked_until(session: Session, channel: str, user_id: str, now: datetime) -> datetime | None:
    row = session.get(InviteLockout, (channel, user_id))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def redeem_invite(
    session: Session, code: str, key: ChatKey, display_name: str, now: datetime
) -> Redeemed:
    """Link `key` to the invite's agency and role, or say why not (and count the failure)."""
    until = locked_until(session, key.channel, key.user_id, now)
    if until is not None:
        return Redeemed(RedeemStatus.LOCKED, locked_until=until, failures_left=0)
    invite = session.execute(
        select(Invite).where(Invite.code_hash == hash_code(code))
    ).scalar_one_or_none()
    if invite is None:
        return _failed(session, key, now, RedeemStatus.UNKNOWN)
    if invite.used_at is not None:
        return _failed(session, key, now, RedeemStatus.USED)
    if invite.expires_at <= now:
        return _failed(session, key, now, RedeemStatus.EXPIRED)
    claimed = session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return _failed(session, key, now, RedeemStatus.USED)
    contact = link_contact(session, key, display_name, invite.agency_id, UserRole(invite.role))
    session.execute(update(Invite).where(Invite.id == invite.id).values(used_by=contact.id))
    lockout = session.get(InviteLockout, (key.channel, key.user_id))
    if lockout is not None:
        session.delete(lockout)
    return Redeemed(RedeemStatus.OK, contact=contact)


def _failed(session: Session, key: ChatKey, now: datetime, status: RedeemStatus) -> Redeemed:
    row = session.get(InviteLockout, (key.channel, key.user_id))
    if row is None:
        row = InviteLockout(channel=key.channel, user_id=key.user_id, failures=0, window_start=now)
        session.add(row)
    if now - row.window_start > FAILURE_WINDOW:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until, row.failures, row.window_start = now + LOCK_TIME, 0, now
        return Redeemed(RedeemStatus.LOCKED, locked_until=row.locked_until, failures_left=0)
    return Redeemed(status, failures_left=MAX_FAILURES - row.failures)
