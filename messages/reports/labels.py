"""The report's fixed words (verdicts, column headers, sheet names), read from a template.

They live in `messages/templates/report/labels.j2` like every other user-facing word; this
module only exposes the variables that template sets.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from messages.render import environment


@cache
def labels() -> Any:
    """The template's module: `labels().verdict["overdue"]`, `labels().summary_columns`…"""
    return environment().get_template("report/labels.j2").module


def verdict_label(verdict: str) -> str:
    return str(labels().verdict[verdict])


def status_label(status: str) -> str:
    return str(labels().status.get(status, status))


def kind_label(kind: str) -> str:
    return str(labels().kind.get(kind, kind))
