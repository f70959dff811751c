"""Tables of the web companion: link tokens, sessions, API tokens, kept files, sign-in throttle.

Only SHA-256 hashes of tokens are stored: a copy of the database (a backup, a log of its
queries) opens no session and no link. Sessions and links belong to a contact, so unlinking the
contact ends them all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class WebLink(SQLModel, table=True):
    """A bearer link: sign-in (single use, 10 min), a file download, or an evidence upload."""

    __tablename__ = "web_link"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    kind: str = Field(max_length=16)  # signin | download | upload
    contact_id: int = Field(foreign_key="contact.id", index=True)
    # JSON: download {"file_id"} or {"evidence_id"}; upload the UploadTarget fields
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in browser: idle expiry from `last_seen_at`, absolute from `expires_at`."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None
    user_agent: str = Field(default="", max_length=200)


class ApiToken(SQLModel, table=True):
    """A per-admin bearer token for the read-only JSON API."""

    __tablename__ = "web_api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=12)  # first characters, so an admin can tell tokens apart
    name: str = Field(max_length=120)  # who it is for ("so-tttt", the admin's name)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    created_by: str = Field(default="cli", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebFile(SQLModel, table=True):
    """A generated file behind a download link, kept in the database so any worker serves it."""

    __tablename__ = "web_file"
    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = 0
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class WebThrottle(SQLModel, table=True):
    """Bad link attempts per client address: too many in a window blocks it a while."""

    __tablename__ = "web_throttle"
    client: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_start: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
