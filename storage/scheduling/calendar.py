"""The working-day calendar as data: Vietnam's public holidays plus an admin's decisions.

Public holidays, with their lunar dates and the make-up days the government announces, come
from the maintained `holidays` library. Each year the government also fixes Tết and swaps
days; those decisions go in `sched_calendar_day` (CLI `parbot calendar add-off|add-workday`)
and win over the library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import holidays
from sqlmodel import Session, select

from core.calendar import WorkCalendar
from storage.tables.scheduling import CalendarDay

OFF, WORK = "off", "work"


@dataclass(frozen=True)
class DayEntry:
    day: date
    kind: str  # off | work
    name: str
    source: str  # "library" or "admin"


def _library(years: Iterable[int]) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=sorted(set(years)), language="vi")


def default_years(*around: date) -> range:
    """Years a calendar must cover: one either side of the dates it will be asked about."""
    years = [d.year for d in around] or [date.today().year]
    return range(min(years) - 1, max(years) + 2)


def load_calendar(session: Session, years: Iterable[int]) -> WorkCalendar:
    """The working-day calendar for `years`: library holidays and make-up days, then admin's."""
    years = list(years)
    library = _library(years)
    days_off = set(library.keys())
    work = set(getattr(library, "weekend_workdays", set()))
    first, last = date(min(years), 1, 1), date(max(years), 12, 31)
    rows = session.exec(
        select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last)
    ).all()
    for row in rows:
        if row.kind == OFF:
            days_off.add(row.day)
            work.discard(row.day)
        else:
            work.add(row.day)
            days_off.discard(row.day)
    return WorkCalendar.of(days_off, work)


def set_day(session: Session, day: date, kind: str, note: str = "", actor: str = "") -> CalendarDay:
    """Record an admin's decision about `day`; a second decision about the same day replaces it."""
    if kind not in (OFF, WORK):
        raise ValueError(f"kind must be {OFF!r} or {WORK!r}")
    row = session.exec(select(CalendarDay).where(CalendarDay.day == day)).first()
    if row is None:
        row = CalendarDay(day=day, kind=kind)
    row.kind, row.note, row.created_by = kind, note, actor
    session.add(row)
    session.flush()
    return row


def remove_day(session: Session, day: date) -> bool:
    row = session.exec(select(CalendarDay).where(CalendarDay.day == day)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def list_days(session: Session, year: int) -> list[DayEntry]:
    """Every day of `year` that differs from a plain Monday–Friday week, with why."""
    library = _library([year])
    entries: dict[date, DayEntry] = {
        day: DayEntry(day, OFF, str(name), "library") for day, name in library.items()
    }
    for day in getattr(library, "weekend_workdays", set()):
        if day.year == year:
            entries[day] = DayEntry(day, WORK, "Ngày làm việc bù", "library")
    rows = session.exec(
        select(CalendarDay).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    ).all()
    for row in rows:
        entries[row.day] = DayEntry(row.day, row.kind, row.note, "admin")
    return sorted(entries.values(), key=lambda e: e.day)
