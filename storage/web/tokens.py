"""Bearer tokens of the web companion: links, sessions, API tokens, and the bad-link throttle.

A token is 32 random bytes shown once (in a link or to the operator); the database keeps its
SHA-256 only, so nothing stored or logged can be replayed. A tampered token hashes to nothing
and is refused like an unknown one. Every check takes `now` (tests pin time).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, select

from storage.tables.shared import Contact
from storage.tables.web import ApiToken, WebLink, WebSession, WebThrottle

SIGNIN, DOWNLOAD, UPLOAD = "signin", "download", "upload"
SIGNIN_TTL = timedelta(minutes=10)
THROTTLE_FAILURES = 10  # bad links from one address within the window…
THROTTLE_WINDOW = timedelta(minutes=10)
THROTTLE_BLOCK = timedelta(minutes=15)  # …block it this long


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for UTC columns on some paths; treat them as UTC."""
    if value is not None and value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return value


# -- links
def issue_link(
    session: Session,
    kind: str,
    contact_id: int,
    ttl: timedelta,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> str:
    """A new link token of `kind` for `contact_id`; the caller builds the URL."""
    token = new_token()
    session.add(
        WebLink(
            token_hash=digest(token),
            kind=kind,
            contact_id=contact_id,
            payload=json.dumps(payload or {}, ensure_ascii=False),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class LinkCheck:
    """A link lookup: the row when usable, otherwise why not (unknown, expired, used, …)."""

    link: WebLink | None
    reason: str = "ok"  # ok | unknown | kind | expired | used | revoked | unlinked

    @property
    def ok(self) -> bool:
        return self.reason == "ok"

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.link.payload) if self.link is not None else {}


def check_link(session: Session, token: str, kind: str, now: datetime) -> LinkCheck:
    if not token or len(token) > 100:
        return LinkCheck(None, "unknown")
    link = session.exec(select(WebLink).where(WebLink.token_hash == digest(token))).first()
    if link is None:
        return LinkCheck(None, "unknown")
    if link.kind != kind:
        return LinkCheck(link, "kind")
    if link.revoked_at is not None:
        return LinkCheck(link, "revoked")
    if kind == SIGNIN and link.used_at is not None:
        return LinkCheck(link, "used")
    if _aware(link.expires_at) <= now:  # type: ignore[operator]
        return LinkCheck(link, "expired")
    contact = session.get(Contact, link.contact_id)
    if contact is None or not contact.active:
        return LinkCheck(link, "unlinked")
    return LinkCheck(link, "ok")


def consume_link(session: Session, link: WebLink, now: datetime) -> bool:
    """Mark a single-use link used; False when another request used it first (a race)."""
    done = session.execute(
        update(WebLink)
        .where(WebLink.id == link.id, WebLink.used_at.is_(None))
        .values(used_at=now)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


def revoke_links(session: Session, contact_id: int, now: datetime) -> int:
    done = session.execute(
        update(WebLink)
        .where(WebLink.contact_id == contact_id, WebLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return done.rowcount  # type: ignore[attr-defined]


# -- sessions
@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=2)
    absolute: timedelta = timedelta(hours=12)


def open_session(
    session: Session, contact_id: int, now: datetime, policy: SessionPolicy, user_agent: str = ""
) -> tuple[str, WebSession]:
    token = new_token()
    row = WebSession(
        token_hash=digest(token),
        contact_id=contact_id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        user_agent=user_agent[:200],
    )
    session.add(row)
    session.flush()
    return token, row


def live_session(
    session: Session, token: str, now: datetime, policy: SessionPolicy
) -> WebSession | None:
    """The session behind a cookie, touched (idle clock restarts); None once it has ended."""
    if not token or len(token) > 100:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == digest(token))).first()
    if row is None or row.ended_at is not None:
        return None
    if _aware(row.expires_at) <= now or _aware(row.last_seen_at) + policy.idle <= now:  # type: ignore[operator]
        row.ended_at = now
        return None
    contact = session.get(Contact, row.contact_id)
    if contact is None or not contact.active:
        row.ended_at = now
        return None
    if now - _aware(row.last_seen_at) > timedelta(minutes=1):  # type: ignore[operator]
        row.last_seen_at = now  # at most one write a minute per browser
    return row


def end_session(session: Session, session_id: int, now: datetime) -> bool:
    row = session.get(WebSession, session_id)
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = now
    return True


def end_sessions_of(session: Session, contact_id: int, now: datetime) -> int:
    done = session.execute(
        update(WebSession)
        .where(WebSession.contact_id == contact_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return done.rowcount  # type: ignore[attr-defined]


def open_sessions(session: Session, now: datetime) -> list[tuple[WebSession, Contact]]:
    rows = session.exec(
        select(WebSession, Contact)
        .join(Contact, Contact.id == WebSession.contact_id)
        .where(WebSession.ended_at.is_(None), WebSession.expires_at > now)
        .order_by(WebSession.id)
    ).all()
    return [(s, c) for s, c in rows]


# -- API tokens
def create_api_token(
    session: Session, name: str, now: datetime, contact_id: int | None = None, by: str = "cli"
) -> tuple[str, ApiToken]:
    token = "pbt_" + new_token()
    row = ApiToken(
        token_hash=digest(token),
        prefix=token[:10],
        name=name[:120],
        contact_id=contact_id,
        created_by=by[:120],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return token, row


def api_token_for(session: Session, token: str, now: datetime) -> ApiToken | None:
    if not token.startswith("pbt_") or len(token) > 100:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return row


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(ApiToken.id)))


def revoke_api_token(session: Session, token_id: int, now: datetime) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


# -- unlinking a contact
def unlink_contact(session: Session, contact_id: int, now: datetime) -> dict[str, int] | None:
    """The contact is no longer linked; its sessions, links and API tokens end with it."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    contact.active = False
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.contact_id == contact_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return {
        "sessions": end_sessions_of(session, contact_id, now),
        "links": revoke_links(session, contact_id, now),
        "api_tokens": tokens,
    }


# -- throttle of bad links
def throttled(session: Session, client: str, now: datetime) -> bool:
    row = session.get(WebThrottle, client[:64])
    return row is not None and row.locked_until is not None and _aware(row.locked_until) > now  # type: ignore[operator]


def record_bad_link(session: Session, client: str, now: datetime) -> bool:
    """Count one bad link from `client`; True when that blocks it."""
    row = session.get(WebThrottle, client[:64])
    if row is None:
        row = WebThrottle(client=client[:64], failures=0, window_start=now)
        session.add(row)
    if _aware(row.window_start) + THROTTLE_WINDOW <= now:  # type: ignore[operator]
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= THROTTLE_FAILURES:
        row.locked_until = now + THROTTLE_BLOCK
        row.failures, row.window_start = 0, now
        return True
    return False


def prune(session: Session, now: datetime, keep: timedelta = timedelta(days=7)) -> None:
    """Forget links and sessions long dead (kept a week for the audit trail's sake)."""
    from sqlalchemy import delete

    before = now - keep
    session.execute(delete(WebLink).where(WebLink.expires_at < before))
    session.execute(
        delete(WebSession).where(
            or_(WebSession.expires_at < before, WebSession.ended_at < before)
        )
    )
