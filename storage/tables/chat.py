"""Tables of the chat: conversation state, processed updates, invites, lockouts, pending files.

Conversation state is a row, not process memory, so a restart or another worker continues a
flow at the same step; processed update ids are rows written in the same transaction as the
change an update caused, so a replay changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, String, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class ChatFlow(SQLModel, table=True):
    """Where one user is in one guided flow (at most one flow per channel, chat and user)."""

    __tablename__ = "chat_flow"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "user_id"),)
    id: int = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    instance: str = Field(max_length=16)
    seq: int = 0
    page: int = 0
    # JSON: {"data": {...answers...}, "options": [values offered by the last prompt]}
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    # The `seq` whose prompt is known to have reached the user; behind `seq` after a crash
    # between the commit and the reply, so the next start sends that prompt again.
    prompt_sent_seq: int | None = None


class ChatChoice(SQLModel, table=True):
    """The numbered choices a text channel last offered in one chat (`1` presses the first).

    One row per (channel, chat), replaced by every message that offers numbered choices,
    whether a direct reply or a row delivered from the outbox; kept in the database so a
    number typed after a restart still presses the right button.
    """

    __tablename__ = "chat_choice"
    channel: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=64)
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON: data
    offered_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """An update already acted on, by the channel's de-duplication key (Telegram's update_id,
    a message id elsewhere); inserted first in the update's transaction."""

    __tablename__ = "chat_update"
    channel: str = Field(primary_key=True, max_length=16)
    update_id: str = Field(sa_column=Column(String(128), primary_key=True, autoincrement=False))
    processed_at: datetime = Field(default_factory=utcnow, index=True)


class Invite(SQLModel, table=True):
    """A one-time onboarding code; only its SHA-256 is stored."""

    __tablename__ = "chat_invite"
    id: int = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    role: str = Field(max_length=16)  # core.model.UserRole
    created_by: str = Field(default="cli", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="contact.id")
    # a focal point's invite for its own agency: who redeems it becomes a deputy (focal_seat)
    deputy: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class InviteLockout(SQLModel, table=True):
    """Wrong invite codes per chat account: too many in a window locks the account a while."""

    __tablename__ = "chat_lockout"
    channel: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_start: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None


class PendingUpload(SQLModel, table=True):
    """A file received during a flow, kept until the report is sent (then moved to evidence)."""

    __tablename__ = "chat_upload"
    __table_args__ = (UniqueConstraint("instance", "sha256"),)
    id: int = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    instance: str = Field(max_length=16, index=True)  # FlowState.instance
    file_name: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class InviteThrottle(SQLModel, table=True):
    """Wrong invite codes across all accounts (one row, scope "global"): many in a window
    make the bot wait before it checks any code again, a wait that doubles at each trip."""

    __tablename__ = "chat_invite_throttle"
    scope: str = Field(primary_key=True, max_length=16)
    failures: int = 0  # wrong codes since window_start
    window_start: datetime = Field(default_factory=utcnow)
    not_before: datetime | None = None  # no code is checked before this time
    trips: int = 0  # consecutive trips: the next wait is BASE × 2^trips
    tripped_at: datetime | None = None
