"""Database tables shared by every feature.

Names follow the design vocabulary (plan, area, task, assignment, reporting round, status
report, outbox). Times are timezone-aware UTC datetimes (SQLModel's UTCDateTime), so a
reminder computed in Asia/Ho_Chi_Minh compares correctly with what the database holds.
Schema changes go through Alembic migrations in `storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC: the one form of time the database stores."""
    return datetime.now(UTC)


class Agency(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    kind: str = Field(index=True, max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="agency.id")
    aliases: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    active: bool = Field(default=True)

    def alias_list(self) -> list[str]:
        return [a for a in self.aliases.split("|") if a]


class AgencyGroup(SQLModel, table=True):
    """A group phrase of plan prose ("Các sở, ban, ngành") and the kinds it means."""

    __tablename__ = "agency_group"
    id: int = Field(default=None, primary_key=True)
    phrase: str = Field(unique=True, max_length=200)
    kinds: str = Field(max_length=200)  # "department|district"


class Plan(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    title: str = Field(sa_column=Column(Text, nullable=False))
    year: int
    issued_on: date | None = None
    # "số 1234/KH-UBND": the number and symbol the Word report quotes ("" when not known)
    number: str = Field(default="", max_length=32)
    symbol: str = Field(default="", max_length=64)
    issuer: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=500)
    imported_at: datetime = Field(default_factory=utcnow)
    # "reports need review": a submitted report waits (chờ duyệt) for a coordinator's Đạt or
    # Trả lại (core.review); off: reports count as accepted when submitted
    review_reports: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})


class Area(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str = Field(max_length=8)  # I … VIII
    title: str = Field(sa_column=Column(Text, nullable=False))
    position: int = 0


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "ref"),)
    id: int = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    ref: str = Field(max_length=32)  # "III.2.2.a"
    position: int = 0  # order in the appendix
    title: str = Field(sa_column=Column(Text, nullable=False))
    schedule: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    rule_kind: str = Field(max_length=16)  # core.model.RuleKind
    due_date: date | None = None
    recurrence: str | None = Field(default=None, max_length=16)
    needs_coordinator: bool = False  # external/unknown schedule: a coordinator sets the date
    expected_output: str = Field(default="", sa_column=Column(Text, nullable=False))
    lead_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    coordinating_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    group_ref: str | None = Field(default=None, max_length=32)
    group_title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    unresolved: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Assignment(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("task_id", "agency_id", "role"),
        Index("ix_assignment_agency_role", "agency_id", "role"),
    )
    id: int = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    role: str = Field(max_length=16)  # lead | coordinate
    annotation: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ReportingRound(SQLModel, table=True):
    """A kỳ báo cáo: who must report what by when."""

    __tablename__ = "reporting_round"
    id: int = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    code: str = Field(unique=True, max_length=64)
    title: str = Field(sa_column=Column(Text, nullable=False))
    ask: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    opens_on: date | None = None
    deadline: date
    recurrence: str | None = Field(default=None, max_length=16)  # monthly rounds
    # JSON: {"agencies": [codes], "kinds": [kinds], "tasks": [refs]}
    audience: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # open | closed
    created_by: int | None = Field(default=None, foreign_key="contact.id")
    created_at: datetime = Field(default_factory=utcnow)
    # what the round asks for: "status" (task statuses) or "document" (each agency sends a
    # document of its own, e.g. its improvement plan: storage.tables.round_documents)
    asks: str = Field(
        default="status", max_length=16, sa_column_kwargs={"server_default": "status"}
    )


class Contact(SQLModel, table=True):
    """A chat user linked to an agency and a role (one link per channel account)."""

    __table_args__ = (UniqueConstraint("channel", "user_id"),)
    id: int = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # telegram | console | zalo
    user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    role: str = Field(max_length=16)  # core.model.UserRole
    active: bool = True  # false after the platform says the bot is blocked
    digest_muted: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class StatusReport(SQLModel, table=True):
    """One version of an agency's report on one task; every version is kept."""

    __tablename__ = "status_report"
    __table_args__ = (
        UniqueConstraint("task_id", "agency_id", "round_id", "version"),
        Index("ix_report_agency_task", "agency_id", "task_id"),
    )
    id: int = Field(default=None, primary_key=True)
    receipt: str = Field(unique=True, max_length=32)
    task_id: int = Field(foreign_key="task.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    round_id: int | None = Field(default=None, foreign_key="reporting_round.id")
    reporter_id: int | None = Field(default=None, foreign_key="contact.id")
    version: int = 1
    is_latest: bool = True
    status: str = Field(max_length=16)  # core.model.ReportStatus
    result: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    figure: str | None = Field(default=None, max_length=200)
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    submitted_at: datetime = Field(default_factory=utcnow, index=True)
    # review (core.review.ReviewStatus): pending | accepted | returned; migration 0013 made
    # every earlier report "accepted" (filed before review existed)
    review: str = Field(
        default="accepted", max_length=16, sa_column_kwargs={"server_default": "accepted"}
    )
    review_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    reviewed_by: int | None = Field(default=None, foreign_key="contact.id")
    reviewed_at: datetime | None = None
    # the coordinators' answer to the report's difficulties (core.review: difficulties answered)
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    answered_by: int | None = Field(default=None, foreign_key="contact.id")
    answered_at: datetime | None = None


class EvidenceFile(SQLModel, table=True):
    """Tài liệu kiểm chứng: the bytes are kept in the database so nothing is lost."""

    __tablename__ = "evidence_file"
    id: int = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="status_report.id", index=True)
    file_name: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(default="", max_length=120)  # "telegram:123" or "cli"
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=300)
    outcome: str = Field(max_length=32)  # ok | refused | error
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))


class Outbox(SQLModel, table=True):
    """Every outgoing message, written in the transaction that caused it."""

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)
    id: int = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    kind: str = Field(default="message", max_length=32)  # reminder | digest | broadcast | reply
    # JSON: {"text": …, "buttons": [[{"text": …, "data": …}]], "document": …}
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    group_key: str | None = Field(default=None, max_length=64, index=True)  # broadcast id
    # delivery bookkeeping (scheduling migration 0003): the platform's id of the (last) part
    # sent, how many parts of a split text went out, when the current attempt started
    message_id: str | None = Field(default=None, max_length=64)
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    claimed_at: datetime | None = None


class ButtonToken(SQLModel, table=True):
    """Callback data is a random token looked up here, bound to the contact it was sent to.

    A button press is honoured only when the token exists, belongs to the pressing contact and
    has not expired, so forged or replayed callback data cannot name another agency's task.
    """

    __tablename__ = "button_token"
    token: str = Field(primary_key=True, max_length=32)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    action: str = Field(max_length=32)  # e.g. "report_task", "snooze", "pick_status"
    args: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    used_at: datetime | None = None
