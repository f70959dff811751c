"""The documents agencies send for a round that asks for a document (`ReportingRound.asks`).

One row per version an agency sends for a round's period: the file itself (bytes in the
database, like evidence), its number and date of issue, a short note, and a review status
(`core.round_documents.DocumentStatus`) that a coordinator's review can later set.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class RoundSubmission(SQLModel, table=True):
    __tablename__ = "round_submission"
    __table_args__ = (
        UniqueConstraint("round_id", "agency_id", "period_deadline", "version"),
        Index("ix_round_submission_round_agency", "round_id", "agency_id"),
    )
    id: int = Field(default=None, primary_key=True)
    receipt: str = Field(unique=True, max_length=32)
    round_id: int = Field(foreign_key="reporting_round.id")
    agency_id: int = Field(foreign_key="agency.id")
    period_deadline: date  # the period's deadline (recurring rounds have several)
    reporter_id: int | None = Field(default=None, foreign_key="contact.id")
    version: int = 1
    is_latest: bool = True
    number: str = Field(max_length=80)  # "125/KH-STP"
    issued_on: date
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    file_name: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="submitted", max_length=16)  # submitted | accepted | returned
    status_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    status_by: int | None = Field(default=None, foreign_key="contact.id")
    status_at: datetime | None = None
    submitted_at: datetime = Field(default_factory=utcnow, index=True)
