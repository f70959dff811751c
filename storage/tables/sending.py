"""The send budget of each channel, shared by every worker process (scheduler/send_lease.py).

One row per channel: which process holds the right to send on it now, until when the platform
asked everyone to wait (a 429's retry_after), and how many 429s the channel has drawn. Kept in
the database so that a worker taking the budget over after a crash honours a pause the dead one
was told about, and so that /metrics tells the same figures whichever worker answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class SendBudget(SQLModel, table=True):
    __tablename__ = "send_budget"
    channel: str = Field(primary_key=True, max_length=16)
    holder: str | None = Field(default=None, max_length=120)  # "host:pid" of the sender
    held_since: datetime | None = None
    paused_until: datetime | None = None  # no send on this channel before then
    rate_limited: int = 0  # 429 answers received, all workers together
