"""The durable inbox: every webhook update, recorded (committed) before the webhook answers.

A platform re-sends an update it got no 2xx for (Telegram does; Zalo's behaviour is not
documented, so it is assumed), and a worker may die right after answering: recording the update
first makes the answer a promise. Processing reads the rows back, one chat at a time in `seq`
order, and stamps `processed_at`; a re-delivered update hits the unique key and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class InboxUpdate(SQLModel, table=True):
    """One received update of one channel, keyed by the platform's id for it."""

    __tablename__ = "inbox_update"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_inbox_update_pending", "processed_at", "channel", "chat_key", "seq"),
    )
    # BIGINT on PostgreSQL; SQLite's rowid alias must be declared INTEGER to autoincrement
    id: int = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=128)  # Telegram's update_id, a message id elsewhere
    chat_key: str = Field(max_length=64)  # the order domain: updates of one chat, in order
    # The platform's order (Telegram's update_id); arrival order (the row id) when it has none.
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the update as received (JSON)
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    error: str | None = Field(default=None, max_length=200)
