"""Tables of the Zalo channels: OA tokens, pending OAuth consents, quota, the messaging window.

The OA's refresh token is single-use and rotates on every refresh (zalo.md §2 [M][F]), so the
token row is the one place it lives, written the moment Zalo answers; `lock_version` is bumped
by every refresher first, which takes the row's write lock on PostgreSQL and the database's
on SQLite: one refresher at a time across processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class ZaloOAToken(SQLModel, table=True):
    """The connected Official Account's token pair (one row; id 1)."""

    __tablename__ = "zalo_oa_token"
    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(default="", max_length=64)
    access_token: str = Field(default="", sa_column=Column(Text, nullable=False))
    refresh_token: str = Field(default="", sa_column=Column(Text, nullable=False))
    access_expires_at: datetime = Field(default_factory=utcnow)
    state: str = Field(default="ok", max_length=16)  # ok | lost (a human must re-consent)
    lock_version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ZaloOAuthPending(SQLModel, table=True):
    """A consent URL printed by `parbot zalo oa connect`: its PKCE verifier, until the callback."""

    __tablename__ = "zalo_oauth_pending"
    state: str = Field(primary_key=True, max_length=64)
    code_verifier: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class ZaloQuota(SQLModel, table=True):
    """Messages counted per channel and month (the Basic Bot plan: 3,000, both directions)."""

    __tablename__ = "zalo_quota"
    channel: str = Field(primary_key=True, max_length=16)
    month: str = Field(primary_key=True, max_length=7)  # "2026-12"
    used: int = 0
    warned: bool = False


class ZaloContactWindow(SQLModel, table=True):
    """When a Zalo user last wrote (the OA's free-reply window) and their phone for ZNS."""

    __tablename__ = "zalo_contact_window"
    channel: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=64)
    last_inbound_at: datetime | None = None
    phone: str | None = Field(default=None, max_length=20)
