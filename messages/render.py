"""The one Jinja2 environment: StrictUndefined, so a missing value fails loudly in tests."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn_date(value: date | datetime | str | None) -> str:
    """05/07/2024, the way Vietnamese documents write dates (an ISO string, as flows keep
    dates in their state, too)."""
    if value is None:
        return "chưa xác định"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(VN) if value.tzinfo else value
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo:
        value = value.astimezone(VN)
    return value.strftime("%H:%M %d/%m/%Y")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = vn_datetime
    return env


def render(name: str, **context: Any) -> str:
    """Render `messages/templates/<name>` (e.g. "chat/help.j2"); surrounding blank lines go."""
    return environment().get_template(name).render(**context).strip()
