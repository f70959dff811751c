"""One-time invite codes: how a chat account becomes an agency's focal point (or another role).

Only a SHA-256 of each code is stored (a database dump reveals no usable code); codes carry
60 random bits and wrong guesses lock the account out for a while, so guessing is hopeless.
Redemption is a conditional UPDATE, so two users racing with the same code cannot both win.

Many accounts guessing together pass the per-account lockout (240 wrong codes from 60
accounts locked nothing), so wrong codes are also counted across accounts. Passing
`GLOBAL_FAILURES` in `GLOBAL_WINDOW` *slows* guessing instead of locking every agency out:
for a while no code is checked at all and every `/start CODE` is answered "thử lại sau N
giây" at once — nothing waits in the bot (no sleeping handler holds the event loop or the
write lock), the answer simply comes without a check, and the wait doubles at each further
trip (15 s, 30 s, 1 min … at most 15 min) until a quiet hour resets it. Coordinators are told
through the outbox when it trips. A legitimate agency waits seconds, not half an hour.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.model import UserRole
from storage.chat.state import ChatKey, link_contact
from storage.deputies import set_deputy
from storage.tables.chat import Invite, InviteLockout, InviteThrottle
from storage.tables.shared import Contact

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_LENGTH = 12
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=30)
GLOBAL_FAILURES = 30  # wrong codes, all accounts together, within GLOBAL_WINDOW
GLOBAL_WINDOW = timedelta(minutes=10)
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=15)
QUIET_RESET = timedelta(hours=1)  # no trip for this long: the wait starts again from FIRST_WAIT


class RedeemStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    LOCKED = "locked"
    THROTTLED = "throttled"  # too many wrong codes across accounts: not checked, try later


@dataclass(frozen=True)
class Redeemed:
    status: RedeemStatus
    contact: Contact | None = None
    locked_until: datetime | None = None  # LOCKED: this account; THROTTLED: every account
    failures_left: int = MAX_FAILURES
    tripped: timedelta | None = None  # this failure tripped the global throttle for so long


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
    deputy: bool = False,
) -> str:
    """Store a new invite and return its code: the only time the code exists in clear.

    `deputy`: a focal point's invite for its own agency; who redeems it is a deputy."""
    code = new_code()
    session.add(
        Invite(
            code_hash=hash_code(code),
            agency_id=agency_id,
            role=role.value,
            created_by=created_by[:120],
            created_at=now,
            expires_at=expires_at,
            deputy=deputy,
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
    throttle = _throttle(session, now)
    if throttle.not_before is not None and throttle.not_before > now:
        return Redeemed(RedeemStatus.THROTTLED, locked_until=throttle.not_before)
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
    if contact.role == UserRole.FOCAL.value:  # main, or a deputy through a focal point's invite
        set_deputy(session, contact.id, bool(invite.deputy), None, now)
    lockout = session.get(InviteLockout, (key.channel, key.user_id))
    if lockout is not None:
        session.delete(lockout)
    return Redeemed(RedeemStatus.OK, contact=contact)


def wait_seconds(result: Redeemed, now: datetime) -> int:
    """Whole seconds until a throttled or locked account may try again (at least 1)."""
    if result.locked_until is None:
        return 0
    return max(1, -int(-(result.locked_until - now).total_seconds() // 1))


def _throttle(session: Session, now: datetime) -> InviteThrottle:
    """The global row, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite has one
    writer), so concurrent wrong codes are counted one after the other."""
    row = session.get(InviteThrottle, "global", with_for_update=True)
    if row is None:  # the migration inserts it; a schema made otherwise gets it here
        try:
            with session.begin_nested():
                session.add(InviteThrottle(scope="global", failures=0, window_start=now, trips=0))
        except IntegrityError:
            pass  # another worker inserted it first
        row = session.get(InviteThrottle, "global", with_for_update=True, populate_existing=True)
        assert row is not None
    return row


def _count_globally(session: Session, now: datetime) -> timedelta | None:
    """One more wrong code across accounts; trip the throttle when there were too many (the
    wait it imposes is returned then: the caller tells the coordinators)."""
    row = _throttle(session, now)
    if now - row.window_start > GLOBAL_WINDOW:
        row.failures, row.window_start = 0, now
    if row.tripped_at is not None and now - row.tripped_at > QUIET_RESET:
        row.trips = 0
    row.failures += 1
    if row.failures < GLOBAL_FAILURES:
        return None
    wait = min(FIRST_WAIT * (2**row.trips), LONGEST_WAIT)
    row.trips += 1
    row.failures, row.window_start = 0, now
    row.not_before, row.tripped_at = now + wait, now
    return wait


def _failed(session: Session, key: ChatKey, now: datetime, status: RedeemStatus) -> Redeemed:
    tripped = _count_globally(session, now)
    row = session.get(InviteLockout, (key.channel, key.user_id))
    if row is None:
        row = InviteLockout(channel=key.channel, user_id=key.user_id, failures=0, window_start=now)
        session.add(row)
    if now - row.window_start > FAILURE_WINDOW:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until, row.failures, row.window_start = now + LOCK_TIME, 0, now
        return Redeemed(
            RedeemStatus.LOCKED, locked_until=row.locked_until, failures_left=0, tripped=tripped
        )
    return Redeemed(status, failures_left=MAX_FAILURES - row.failures, tripped=tripped)
