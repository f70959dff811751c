"""Schedule text ("Tiến độ") → deadline rules.

Plans write deadlines in prose. We read the forms officials use and refuse to guess the rest:
an unreadable schedule is kept verbatim and flagged so a coordinator sets the date.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from core.model import DeadlineRule, RuleKind
from core.text import clean, fold

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_HALF_OR_PART = re.compile(r"\b(\d{1,2}) thang (dau|cuoi) nam(?: (\d{4}))?\b")
_QUARTER = re.compile(r"\bquy (i{1,3}|iv|[1-4])\s*(?:/|nam|-)?\s*(\d{4})?\b")
_MONTH = re.compile(r"\bthang (\d{1,2})\s*(?:/|nam|-)\s*(\d{4})\b")
_DMY = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\b")
_DMY_WORDS = re.compile(r"\bngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})\b")
_WITHIN_YEAR = re.compile(r"^(?:trong|ca|het|cuoi)? ?nam(?: (\d{4}))?$")
# Folded forms: "hằng tháng" and "hàng tháng" both fold to "hang thang".
_RECURRING = {
    "thuong xuyen": "monthly",
    "hang thang": "monthly",
    "dinh ky hang thang": "monthly",
    "hang quy": "quarterly",
    "dinh ky hang quy": "quarterly",
    "hang nam": "yearly",
}


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_schedule(text: str | None, default_year: int | None = None) -> DeadlineRule:
    """Read one schedule cell. `default_year` is the plan's year, for "Trong năm"."""
    raw = clean(text)
    key = fold(raw).strip(" .;:")
    key = re.sub(r"\s+", " ", key)
    if not key:
        return DeadlineRule(RuleKind.UNKNOWN, raw)

    for phrase, every in _RECURRING.items():
        if key == phrase or key.startswith(phrase + " "):
            return DeadlineRule(RuleKind.RECURRING, raw, recurrence=every)

    if key.startswith("theo "):
        return DeadlineRule(RuleKind.EXTERNAL, raw)

    found = _DMY_WORDS.search(key) or _DMY.search(key)
    if found:
        d, m, y = (int(g) for g in found.groups())
        due = _safe_date(y, m, d)
        return (
            DeadlineRule(RuleKind.DATE, raw, due=due)
            if due
            else DeadlineRule(RuleKind.UNKNOWN, raw)
        )

    found = _HALF_OR_PART.search(key)
    if found:
        months, which, year = int(found.group(1)), found.group(2), found.group(3)
        year_n = int(year) if year else default_year
        if year_n and 1 <= months <= 12:
            month = months if which == "dau" else 12
            return DeadlineRule(RuleKind.DATE, raw, due=_end_of_month(year_n, month))

    found = _QUARTER.search(key)
    if found:
        q_text, year = found.group(1), found.group(2)
        quarter = int(q_text) if q_text.isdigit() else _ROMAN[q_text]
        year_n = int(year) if year else default_year
        if year_n:
            return DeadlineRule(RuleKind.DATE, raw, due=_end_of_month(year_n, quarter * 3))

    found = _MONTH.search(key)
    if found:
        month, year_n = int(found.group(1)), int(found.group(2))
        if 1 <= month <= 12:
            return DeadlineRule(RuleKind.DATE, raw, due=_end_of_month(year_n, month))
        return DeadlineRule(RuleKind.UNKNOWN, raw)

    found = _WITHIN_YEAR.match(key)
    if found:
        year_n = int(found.group(1)) if found.group(1) else default_year
        if year_n:
            return DeadlineRule(RuleKind.DATE, raw, due=date(year_n, 12, 31))

    return DeadlineRule(RuleKind.UNKNOWN, raw)
