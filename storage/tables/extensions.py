"""Extension requests (xin gia hạn) and focal points' seats (main or deputy, absences).

`extension_request` keeps every request with its decision: the task keeps its own due date,
and an approved row moves that one agency's deadline (the latest approved row of a pair wins;
`original_date` is the deadline it replaced). `focal_seat` says which focal points are
deputies and when one is away; a focal point without a row is a main one, never away.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class ExtensionRequest(SQLModel, table=True):
    __tablename__ = "extension_request"
    __table_args__ = (
        Index("ix_extension_request_pair", "task_id", "agency_id", "status"),
        Index("ix_extension_request_status", "status", "requested_at"),
    )
    id: int = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    agency_id: int = Field(foreign_key="agency.id")
    requested_by: int | None = Field(default=None, foreign_key="contact.id")
    requested_at: datetime = Field(default_factory=utcnow)
    original_date: date | None = None  # the pair's deadline when asked
    new_date: date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)  # core.extensions.ExtensionStatus
    decided_by: int | None = Field(default=None, foreign_key="contact.id")
    decided_at: datetime | None = None
    refusal: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class FocalSeat(SQLModel, table=True):
    """A focal point's place in its agency: deputy or main, and an absence (both days in)."""

    __tablename__ = "focal_seat"
    contact_id: int = Field(primary_key=True, foreign_key="contact.id")
    deputy: bool = False
    invited_by: int | None = Field(default=None, foreign_key="contact.id")
    away_from: date | None = None
    away_until: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)
