"""Targets stated in a task's expected output ("trên 95%", "100%", "ít nhất 03 cuộc").

The report flow asks for the achieved figure only when the plan states one, and validates the
answer against the kind of target (a percentage 0–100, or a whole count). Matching runs on the
folded text (no diacritics, lower case), which keeps Vietnamese offsets, so the phrase shown to
the user is cut from the original wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.conversation import Invalid, parse_number, say
from core.text import clean, fold

PERCENT = "percent"
COUNT = "count"

_PERCENT = re.compile(
    r"(?:(?P<q>tren|tu|toi thieu|it nhat|dat|>=|≥|>)\s*)?"
    r"(?P<n>\d{1,3}(?:[.,]\d{1,2})?)\s?%"
    r"(?P<up>\s+tro len)?"
)
_COUNT = re.compile(
    r"(?P<q>it nhat|toi thieu|day du|hoan thanh)\s+(?:tu\s+)?"
    r"(?P<n>\d{1,4})\s+(?P<unit>[a-z]+(?: [a-z]+){0,2})"
)
_TIME_UNITS = {"ngay", "thang", "nam", "gio", "tuan", "quy", "phut"}


@dataclass(frozen=True)
class Target:
    kind: str  # PERCENT | COUNT
    value: float
    op: str  # ">" (trên), ">=" (ít nhất, từ … trở lên, plain "100%")
    phrase: str  # as written in the plan: "trên 95%"


def extract_targets(expected_output: str) -> list[Target]:
    """Every target the text states, in order of appearance."""
    text = clean(expected_output)
    folded = fold(text)
    if len(folded) != len(text):  # offsets would not line up: show the folded phrase
        text = folded
    found: list[tuple[int, Target]] = []
    for match in _PERCENT.finditer(folded):
        qualifier = match.group("q") or ""
        op = ">" if qualifier in ("tren", ">") else ">="
        value = float(match.group("n").replace(",", "."))
        found.append((match.start(), Target(PERCENT, value, op, text[slice(*match.span())])))
    for match in _COUNT.finditer(folded):
        if match.group("unit").split()[0] in _TIME_UNITS:
            continue
        value = float(match.group("n"))
        found.append((match.start(), Target(COUNT, value, ">=", text[slice(*match.span())])))
    return [target for _, target in sorted(found, key=lambda item: item[0])]


def primary_target(expected_output: str) -> Target | None:
    """The first stated target: the one the achieved figure is asked against."""
    targets = extract_targets(expected_output)
    return targets[0] if targets else None


def parse_figure(kind: str, typed: str) -> str:
    """Validate an achieved figure and return it normalised ("96,5%", "3")."""
    number = parse_number(typed)
    if number is None or number < 0:
        raise Invalid(say("chat/report_invalid_figure.j2", kind=kind))
    if kind == PERCENT:
        if number > 100:
            raise Invalid(say("chat/report_invalid_figure.j2", kind=kind))
        return f"{number:g}".replace(".", ",") + "%"
    if number != int(number):
        raise Invalid(say("chat/report_invalid_figure.j2", kind=kind))
    return str(int(number))


def meets(target: Target, figure: str) -> bool:
    """Whether a normalised figure reaches the target (for the summary: "đạt"/"chưa đạt")."""
    number = parse_number(figure)
    if number is None:
        return False
    return number > target.value if target.op == ">" else number >= target.value
