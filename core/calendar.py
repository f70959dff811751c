"""Vietnamese working days: pure arithmetic over days off and make-up working days.

Which days are holidays is data (a maintained holiday library plus the yearly government
decisions an admin types in), so this module only answers questions about a given set of days:
"is this a working day?", "what is 3 working days before 05/7/2024?". The caller builds the
sets (see `storage.scheduling.calendar`).

A deadline that falls on a day off moves to the next working day, as the Civil Code (Bộ luật
Dân sự 2015, điều 148.5) does for the last day of a time limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY, SUNDAY = 5, 6
_MAX_SCAN = 400  # longer than any run of consecutive days off; guards against bad data


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday, minus `days_off`, plus `make_up_days` (worked weekends)."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})

    @classmethod
    def of(
        cls,
        days_off: Iterable[date] = (),
        make_up_days: Iterable[date] = (),
        weekend: Iterable[int] = (SATURDAY, SUNDAY),
    ) -> WorkCalendar:
        return cls(frozenset(days_off), frozenset(make_up_days), frozenset(weekend))

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_days:
            return True
        return day.weekday() not in self.weekend and day not in self.days_off

    def _step(self, day: date, direction: int) -> date:
        for _ in range(_MAX_SCAN):
            day += timedelta(days=direction)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {_MAX_SCAN} days of {day}")

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self._step(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        return self._step(day, -1)

    def on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def on_or_before(self, day: date) -> date:
        return day if self.is_working_day(day) else self.previous_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """`n` working days after `day` (before it when `n` is negative); 0 gives `day`."""
        step = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            day = self._step(day, step)
        return day

    def working_days_before(self, day: date, n: int) -> date:
        """The working day `n` working days before `day` ("T−n")."""
        return self.add_working_days(day, -n)

    def effective_deadline(self, deadline: date) -> date:
        """A deadline on a day off ends on the next working day (Civil Code, art. 148.5)."""
        return self.on_or_after(deadline)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days `end` lies after `start`.

        Negative when `end` is before `start`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for d in _days(start + timedelta(days=1), end) if self.is_working_day(d))

    def working_days_in(self, start: date, end: date) -> list[date]:
        """Working days from `start` to `end`, both included."""
        return [d for d in _days(start, end) if self.is_working_day(d)]


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class SendWindow:
    """Office hours in local time: scheduled messages go out only inside them, on working days."""

    start: time = time(7, 30)
    end: time = time(17, 0)
    tz: str = "Asia/Ho_Chi_Minh"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def local_day(self, at: datetime) -> date:
        return self.local(at).date()

    def at(self, day: date, moment: time) -> datetime:
        """An aware datetime for `moment` on `day`, local time."""
        return datetime.combine(day, moment, tzinfo=self.zone)

    def is_open(self, at: datetime, calendar: WorkCalendar) -> bool:
        local = self.local(at)
        return calendar.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_open(self, at: datetime, calendar: WorkCalendar) -> datetime:
        """`at` itself when the window is open, else when it next opens (aware)."""
        if self.is_open(at, calendar):
            return at
        local = self.local(at)
        day = local.date()
        if calendar.is_working_day(day) and local.time() < self.start:
            return self.at(day, self.start)
        return self.at(calendar.next_working_day(day), self.start)
