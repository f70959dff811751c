"""Numbered choices per (channel, chat): what a typed number presses on a text channel.

The dispatcher records the buttons of each reply that offers numbered choices, the delivery
worker those of each outbox row it delivers; a typed `n` is looked up here. Only the latest
message counts, so an older list's number is answered as outdated, never guessed.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.tables.chat import ChatChoice

_TABLE = ChatChoice.__table__


def offer_choices(
    session: Session, channel: str, chat_id: str, buttons: list[str], now: datetime
) -> None:
    """The latest numbered message in this chat offered `buttons` (callback data, in order)."""
    connection = session.connection()
    connection.execute(
        delete(_TABLE).where(_TABLE.c.channel == channel, _TABLE.c.chat_id == chat_id)
    )
    connection.execute(
        insert(_TABLE),
        {
            "channel": channel,
            "chat_id": chat_id,
            "buttons": json.dumps(buttons, ensure_ascii=False),
            "offered_at": now,
        },
    )


def offer_choices_now(
    engine: Engine, channel: str, chat_id: str, buttons: list[str], now: datetime
) -> None:
    """`offer_choices` in a transaction of its own (the delivery worker, after a send)."""
    with Session(engine) as session:
        offer_choices(session, channel, chat_id, buttons, now)
        session.commit()


def offered_choices(session: Session, channel: str, chat_id: str) -> list[str] | None:
    """The buttons of the latest numbered message in this chat; None when there is none."""
    row = session.get(ChatChoice, (channel, chat_id))
    return None if row is None else list(json.loads(row.buttons))


def forget_choices(session: Session, channel: str, chat_id: str) -> None:
    """The latest choices are spent (their flow ended): their numbers are outdated now."""
    session.connection().execute(
        delete(_TABLE).where(_TABLE.c.channel == channel, _TABLE.c.chat_id == chat_id)
    )
