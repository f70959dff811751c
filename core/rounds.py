"""Reporting rounds (kỳ báo cáo): who must report, what, and by which deadline.

An audience names agencies, kinds of agency, or the assignees of chosen tasks ("*" = every
task of the plan). With agencies or kinds the round asks one report per agency; with tasks it
asks one report per (agency, task). A recurring round ("monthly", "quarterly") keeps its first
deadline's day of the month; a first deadline on the last day of a month stays on month ends.
"""

from __future__ import annotations

import calendar as _cal
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.model import AgencyKind, AssignmentRole

RECURRENCE_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


class AudienceError(ValueError):
    """An audience that names nothing, or names what does not exist."""


@dataclass(frozen=True)
class Audience:
    agencies: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tasks: tuple[str, ...] | None = None  # None: no task part; ("*",): every task of the plan
    roles: tuple[str, ...] = (AssignmentRole.LEAD.value,)

    @property
    def per_task(self) -> bool:
        return self.tasks is not None

    @property
    def all_tasks(self) -> bool:
        return self.tasks == ("*",)

    @classmethod
    def from_json(cls, raw: str | dict[str, Any] | None) -> Audience:
        data: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw) or {}
        tasks = data.get("tasks")
        if isinstance(tasks, str):
            tasks = [tasks]
        roles = data.get("roles") or [AssignmentRole.LEAD.value]
        audience = cls(
            agencies=tuple(data.get("agencies") or ()),
            kinds=tuple(data.get("kinds") or ()),
            tasks=tuple(tasks) if tasks else None,
            roles=tuple(roles),
        )
        audience.validate()
        return audience

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.agencies:
            data["agencies"] = list(self.agencies)
        if self.kinds:
            data["kinds"] = list(self.kinds)
        if self.tasks is not None:
            data["tasks"] = list(self.tasks)
            data["roles"] = list(self.roles)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def validate(self) -> None:
        if not (self.agencies or self.kinds or self.tasks):
            raise AudienceError("audience names no agency, kind or task")
        known_kinds = {k.value for k in AgencyKind}
        bad = [k for k in self.kinds if k not in known_kinds]
        if bad:
            raise AudienceError(f"unknown agency kinds: {', '.join(bad)}")
        known_roles = {r.value for r in AssignmentRole}
        bad = [r for r in self.roles if r not in known_roles]
        if bad:
            raise AudienceError(f"unknown roles: {', '.join(bad)}")
        if self.per_task and (self.agencies or self.kinds):
            raise AudienceError("an audience names either tasks or agencies/kinds, not both")


def add_months(day: date, months: int, month_end: bool = False) -> date:
    """`day` moved by `months`, clamped to the month's length (31/1 + 1 → 29/2)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _cal.monthrange(year, month + 1)[1]
    return date(year, month + 1, last if month_end else min(day.day, last))


@dataclass(frozen=True)
class Period:
    """One occurrence of a round: reports submitted from `opens` count for `deadline`."""

    index: int
    opens: date
    deadline: date


@dataclass(frozen=True)
class RoundSchedule:
    deadline: date
    opens_on: date | None = None
    recurrence: str | None = None
    lookback: int = field(default=40, compare=False)  # days a period stays interesting

    def __post_init__(self) -> None:
        if self.recurrence and self.recurrence not in RECURRENCE_MONTHS:
            raise ValueError(f"unknown recurrence {self.recurrence!r}")

    def period(self, index: int) -> Period:
        if not self.recurrence:
            return Period(0, self.opens_on or date.min, self.deadline)
        step = RECURRENCE_MONTHS[self.recurrence]
        month_end = self.deadline.day == _cal.monthrange(self.deadline.year, self.deadline.month)[1]
        deadline = add_months(self.deadline, step * index, month_end)
        if index == 0:
            opens = self.opens_on or add_months(self.deadline, -step, month_end) + timedelta(1)
        else:
            opens = add_months(self.deadline, step * (index - 1), month_end) + timedelta(days=1)
        return Period(index, opens, deadline)

    def periods_around(self, today: date) -> list[Period]:
        """Periods whose deadline lies within `lookback` days of `today` either side."""
        if not self.recurrence:
            return [self.period(0)]
        step = RECURRENCE_MONTHS[self.recurrence]
        months = (today.year - self.deadline.year) * 12 + today.month - self.deadline.month
        first = max(0, months // step - 1)
        found = []
        for index in range(first, first + 4):
            period = self.period(index)
            if abs((period.deadline - today).days) <= self.lookback:
                found.append(period)
        return found

    def current(self, today: date) -> Period:
        """The period whose deadline is the first on or after `today` (the last one if none)."""
        if not self.recurrence:
            return self.period(0)
        for period in self.periods_around(today):
            if period.deadline >= today:
                return period
        index = 0
        while self.period(index).deadline < today:
            index += 1
        return self.period(index)
