"""What every scheduling job needs: the database, the clock, the policy, the calendar.

Built once by the composition root from settings; jobs and chat handlers take it as a
parameter, so tests build one with a FixedClock and their own policy.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.calendar import SendWindow, WorkCalendar
from core.clock import Clock
from core.reminders import ReminderPolicy
from storage.scheduling.calendar import default_years, load_calendar

_CALENDAR_TTL = 60.0  # seconds a loaded calendar is reused; admins' edits show within a minute


@dataclass
class Scheduling:
    engine: Engine
    clock: Clock
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    window: SendWindow = field(default_factory=SendWindow)
    digest_at: time = time(7, 30)
    closing_within: int = 3  # working days: "rounds closing soon" in digests
    _calendar: WorkCalendar | None = field(default=None, repr=False)
    _calendar_key: tuple[int, ...] = field(default=(), repr=False)
    _calendar_at: float = field(default=0.0, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return self.window.zone

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.window.local_day(self.clock.now())

    def calendar(self) -> WorkCalendar:
        """The working-day calendar around today, reloaded at most once a minute."""
        years = tuple(default_years(self.today()))
        fresh = _time.monotonic() - self._calendar_at < _CALENDAR_TTL
        if self._calendar is None or years != self._calendar_key or not fresh:
            with Session(self.engine) as session:
                self._calendar = load_calendar(session, years)
            self._calendar_key, self._calendar_at = years, _time.monotonic()
        return self._calendar

    def forget_calendar(self) -> None:
        """After an edit to the calendar table, in this process."""
        self._calendar = None
