"""Reminder policy: which reminder, if any, a deadline calls for on a given working day.

The ladder (defaults, all configurable): T−7, T−3, T−1 working days and the deadline day; then
a daily overdue notice to the focal point for 3 working days; on the 4th overdue working day the
agency's leaders and the coordinators are told (escalation), once. Nothing on days off.

The sweep needs the inverse question too — "which deadlines call for a reminder today?" — so it
can ask the database for those deadlines only instead of walking every assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from core.calendar import WorkCalendar


class LevelKind(StrEnum):
    BEFORE = "before"  # T−n working days
    DUE = "due"  # the deadline day
    OVERDUE = "overdue"  # n-th working day after the deadline, to the focal point
    ESCALATE = "escalate"  # to the agency's leaders and the coordinators
    CHECKIN = "checkin"  # monthly check-in on a recurring ("Thường xuyên") task


@dataclass(frozen=True)
class ReminderLevel:
    kind: LevelKind
    n: int = 0

    @property
    def code(self) -> str:
        """Short, stable name used in idempotency keys: t-7, t0, od2, esc, checkin."""
        return {
            LevelKind.BEFORE: f"t-{self.n}",
            LevelKind.DUE: "t0",
            LevelKind.OVERDUE: f"od{self.n}",
            LevelKind.ESCALATE: "esc",
            LevelKind.CHECKIN: "checkin",
        }[self.kind]

    @classmethod
    def parse(cls, code: str) -> ReminderLevel:
        if code == "t0":
            return cls(LevelKind.DUE)
        if code == "esc":
            return cls(LevelKind.ESCALATE)
        if code == "checkin":
            return cls(LevelKind.CHECKIN)
        if code.startswith("t-") and code[2:].isdigit():
            return cls(LevelKind.BEFORE, int(code[2:]))
        if code.startswith("od") and code[2:].isdigit():
            return cls(LevelKind.OVERDUE, int(code[2:]))
        raise ValueError(f"unknown reminder level {code!r}")

    @property
    def to_focal(self) -> bool:
        return self.kind is not LevelKind.ESCALATE


@dataclass(frozen=True)
class ReminderPolicy:
    before: tuple[int, ...] = (7, 3, 1)  # working days before the deadline
    on_deadline: bool = True
    overdue_days: int = 3  # daily overdue notices before escalating
    escalate: bool = True
    at: time = time(8, 0)  # local time reminders become due
    checkin_day: int = 1  # recurring tasks: check-in on the first working day from this day

    @classmethod
    def from_settings(
        cls, offsets: str, escalate_after: int, at: time = time(8, 0)
    ) -> ReminderPolicy:
        """Read "7,3,1,0" (0 = the deadline day) as the settings write it."""
        values: set[int] = set()
        for part in offsets.replace(" ", "").split(","):
            if not part:
                continue
            if not part.isdigit():
                raise ValueError(f"PARBOT_REMINDER_DAYS: {part!r} is not a number of days")
            values.add(int(part))
        if escalate_after < 0:
            raise ValueError("PARBOT_ESCALATE_AFTER_DAYS must be 0 or more")
        return cls(
            before=tuple(sorted((v for v in values if v > 0), reverse=True)),
            on_deadline=0 in values,
            overdue_days=escalate_after,
            at=at,
        )

    def level_for(
        self, calendar: WorkCalendar, deadline: date, today: date
    ) -> ReminderLevel | None:
        """The reminder `deadline` calls for on `today`, or None."""
        if not calendar.is_working_day(today):
            return None
        due = calendar.effective_deadline(deadline)
        if today <= due:
            ahead = calendar.working_days_between(today, due)
            if ahead == 0:
                return ReminderLevel(LevelKind.DUE) if self.on_deadline else None
            return ReminderLevel(LevelKind.BEFORE, ahead) if ahead in self.before else None
        late = calendar.working_days_between(due, today)
        if late <= self.overdue_days:
            return ReminderLevel(LevelKind.OVERDUE, late)
        if self.escalate and late == self.overdue_days + 1:
            return ReminderLevel(LevelKind.ESCALATE)
        return None

    def deadlines_for(self, calendar: WorkCalendar, today: date) -> dict[date, ReminderLevel]:
        """Every deadline date that calls for a reminder on `today`, with its level.

        A deadline on a day off counts from the next working day, so the days off just before
        each effective deadline map to the same level.
        """
        if not calendar.is_working_day(today):
            return {}
        wanted: list[tuple[date, ReminderLevel]] = []
        for n in self.before:
            wanted.append((calendar.add_working_days(today, n), ReminderLevel(LevelKind.BEFORE, n)))
        if self.on_deadline:
            wanted.append((today, ReminderLevel(LevelKind.DUE)))
        for k in range(1, self.overdue_days + 1):
            late = calendar.add_working_days(today, -k)
            wanted.append((late, ReminderLevel(LevelKind.OVERDUE, k)))
        if self.escalate:
            wanted.append(
                (
                    calendar.add_working_days(today, -(self.overdue_days + 1)),
                    ReminderLevel(LevelKind.ESCALATE),
                )
            )
        result: dict[date, ReminderLevel] = {}
        for due, level in wanted:
            result[due] = level
            day = due - timedelta(days=1)
            while not calendar.is_working_day(day):
                result[day] = level
                day -= timedelta(days=1)
        return result

    def escalation_day(self, calendar: WorkCalendar, deadline: date) -> date | None:
        if not self.escalate:
            return None
        return calendar.add_working_days(
            calendar.effective_deadline(deadline), self.overdue_days + 1
        )

    def checkin_due(self, calendar: WorkCalendar, today: date) -> bool:
        """True on the monthly check-in day: the first working day from `checkin_day`."""
        first = today.replace(day=min(self.checkin_day, 28))
        return calendar.is_working_day(today) and calendar.on_or_after(first) == today


def snooze_until(calendar: WorkCalendar, today: date) -> date:
    """ "Nhắc lại sau" moves a reminder to the next working day."""
    return calendar.next_working_day(today)
