"""Deputies and leave: who receives an agency's reminders and nudges on a given day.

An agency may have several focal points: main ones (normally one) and deputies (phó/dự
phòng), invited by a focal point of the same agency. A focal point may record an absence
(from–to, both days included). The rule, one place for reminders and broadcasts:

* the main focal points who are reachable (active) and not absent that day receive them;
* if none is, the deputies who are reachable and not absent that day;
* if none is, the agency's leaders (lãnh đạo), so a deadline is never left with nobody;
* after the absence, the main focal point receives them again (the rule is asked every day).

Deputies do not receive routine reminders while a main focal point is present: they stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FocalPerson:
    """A focal point of an agency as the routing rule sees it."""

    contact_id: int
    deputy: bool = False
    active: bool = True
    away_from: date | None = None
    away_until: date | None = None

    def away_on(self, day: date) -> bool:
        if self.away_from is None or self.away_until is None:
            return False
        return self.away_from <= day <= self.away_until


def recipients(focal: Sequence[FocalPerson], leaders: Sequence[int], day: date) -> list[int]:
    """Contact ids that receive the agency's reminders and nudges on `day` (rule above)."""
    present = [p for p in focal if p.active and not p.away_on(day)]
    mains = [p.contact_id for p in present if not p.deputy]
    if mains:
        return mains
    deputies = [p.contact_id for p in present if p.deputy]
    if deputies:
        return deputies
    return list(leaders)


def absence_problem(start: date, end: date, today: date) -> str | None:
    """Why an absence from `start` to `end` cannot be recorded (a template's reason code)."""
    if end < start:
        return "end_before_start"
    if end < today:
        return "past"
    if (end - start).days > 366:
        return "too_long"
    return None
