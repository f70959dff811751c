"""Issuing and redeeming button tokens (see `ButtonToken`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from storage.tables.shared import ButtonToken, utcnow


@dataclass(frozen=True)
class ButtonAction:
    action: str
    args: dict[str, Any]
    contact_id: int


def issue_button(
    session: Session,
    contact_id: int,
    action: str,
    args: dict[str, Any] | None = None,
    ttl: timedelta | None = timedelta(days=30),
    now: datetime | None = None,
) -> str:
    """Store an action for `contact_id` and return the callback data that names it (≤ 64 B)."""
    now = now or utcnow()
    token = "b:" + secrets.token_urlsafe(12)
    session.add(
        ButtonToken(
            token=token,
            contact_id=contact_id,
            action=action,
            args=json.dumps(args or {}, ensure_ascii=False),
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    return token


def redeem_button(
    session: Session, data: str, contact_id: int, now: datetime | None = None
) -> ButtonAction | None:
    """The action behind `data` if it was issued to `contact_id` and is still valid."""
    row = session.get(ButtonToken, data)
    now = now or utcnow()
    if row is None or row.contact_id != contact_id:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return ButtonAction(row.action, json.loads(row.args), row.contact_id)
