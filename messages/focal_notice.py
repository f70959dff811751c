"""Telling an agency's focal point what a coordinator decided on something it sent.

A report's review, a difficulty's answer and a round document's review all end the same way:
one outbox message to the focal point who sent it (or, if they are no longer the agency's focal
point, to every active one — `storage.review.store.focal_recipients_of`), keyed so that a
decision told twice is queued once, and on a return a button that opens the flow to send again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from core.outgoing import Button, Outgoing
from storage.chat.buttons import issue_button
from storage.outbox import OutboxItem, enqueue_many
from storage.review.store import focal_recipients_of

#: How long «Báo cáo lại» / «Gửi lại văn bản» keeps working after a return.
AGAIN_TTL = timedelta(days=60)


@dataclass(frozen=True)
class SendAgain:
    """The button under a return: its label, the button action and what it carries."""

    label: str
    action: str
    payload: dict[str, Any]


def tell_focal_point(
    session: Session,
    agency_id: int,
    reporter_id: int | None,
    *,
    key: str,
    kind: str,
    text: str,
    now: datetime,
    again: SendAgain | None = None,
) -> int:
    """Queue `text` to whoever should hear it (see the module docstring); how many were new."""
    items: list[OutboxItem] = []
    for contact in focal_recipients_of(session, agency_id, reporter_id):
        assert contact.id is not None
        buttons: list[list[Button]] = []
        if again is not None:
            token = issue_button(
                session, contact.id, again.action, again.payload, ttl=AGAIN_TTL, now=now
            )
            buttons = [[Button(again.label, token)]]
        items.append(
            OutboxItem(
                key=f"{key}:{contact.id}",
                channel=contact.channel,
                chat_id=contact.chat_id,
                message=Outgoing(text, buttons=buttons),
                contact_id=contact.id,
                kind=kind,
            )
        )
    return len(enqueue_many(session, items, now)) if items else 0
