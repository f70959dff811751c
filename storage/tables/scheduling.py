"""Tables of the scheduling feature: calendar exceptions, reminders sent, snoozes, broadcasts.

Prefixed `sched_` so their owner is plain in the database. Reminder rows point at the outbox
row that carries them: the delivery worker asks them whether a reminder is still relevant
(no report arrived meanwhile) right before sending it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class CalendarDay(SQLModel, table=True):
    """An admin's decision about one day: an extra day off, or a make-up working day."""

    __tablename__ = "sched_calendar_day"
    id: int = Field(default=None, primary_key=True)
    day: date = Field(unique=True, index=True)
    kind: str = Field(max_length=8)  # off | work
    note: str = Field(default="", max_length=300)
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class ReminderRecord(SQLModel, table=True):
    """One reminder (or escalation, or check-in) written to the outbox for one contact."""

    __tablename__ = "sched_reminder"
    __table_args__ = (Index("ix_sched_reminder_agency_day", "agency_id", "day"),)
    id: int = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", unique=True)
    source: str = Field(max_length=80)  # round code, "task:<deadline>" or "checkin"
    round_id: int | None = Field(default=None, foreign_key="reporting_round.id")
    agency_id: int = Field(foreign_key="agency.id")
    contact_id: int = Field(foreign_key="contact.id")
    task_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    level: str = Field(max_length=16)  # core.reminders.ReminderLevel.code
    day: date  # the working day it is for
    deadline: date | None = None
    opens: date | None = None  # reports from this day on count
    snoozed_from: int | None = Field(default=None)  # the reminder this one repeats
    created_at: datetime = Field(default_factory=utcnow)


class Snooze(SQLModel, table=True):
    """ "Nhắc lại sau": one per reminder level, moved to the next working day."""

    __tablename__ = "sched_snooze"
    __table_args__ = (UniqueConstraint("key"),)
    id: int = Field(default=None, primary_key=True)
    key: str = Field(max_length=240)  # source:agency:deadline:level:contact
    reminder_id: int = Field(foreign_key="sched_reminder.id")
    contact_id: int = Field(foreign_key="contact.id")
    until: date = Field(index=True)
    done: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class JobRun(SQLModel, table=True):
    """A daily job that has run for a day (digest): later runs that day have nothing to do."""

    __tablename__ = "sched_job_run"
    __table_args__ = (UniqueConstraint("job", "day"),)
    id: int = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    day: date
    at: datetime = Field(default_factory=utcnow)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))


class Broadcast(SQLModel, table=True):
    """A coordinator's nudge to many agencies; its messages share Outbox.group_key."""

    __tablename__ = "sched_broadcast"
    id: int = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None, foreign_key="contact.id")
    actor: str = Field(default="", max_length=120)
    audience: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    text: str = Field(sa_column=Column(Text, nullable=False))
    total: int = 0
    status: str = Field(default="queued", max_length=16)  # queued | done
    progress_chat_id: str | None = Field(default=None, max_length=64)
    progress_channel: str | None = Field(default=None, max_length=16)
    progress_outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    progress_shown: int = 0  # the count the progress message last showed
    progress_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
