"""Targets stated in a task's expected output ("trên 95%", "100%", "ít nhất 03 cuộc").

The report flow asks for the achieved figure only when the plan states one, and validates the
answer against the kind of target (a percentage 0–100, or a whole count). Matching runs on the
folded text (no diacritics, lower case), which keeps Vietnamese offsets, so the phrase shown to
the user is cut from the original wording.

A target is quoted whole: its phrase is the clause of the plan that states it ("Tỷ lệ hồ sơ
trực tuyến toàn trình đạt 50%"), from one bullet, semicolon or full stop to the next, never a
window of words that may end mid-phrase ("đầy đủ 03 hoạt động theo"). A count's unit ("hoạt
động", "cuộc đối thoại") is the noun after the number, up to the first word that starts a
complement ("theo", "của", "trong"…), so "3" can be written "3 hoạt động".
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
# where a clause may end: a dash, a semicolon, a full stop (not a decimal point), a line, a tag
_CLAUSE_END = re.compile(r"(?:^|\s)-\s*|;|\.(?!\d)|\n|<[^>]+>")
# words that start a complement: the unit of a count stops before them
_UNIT_STOP = frozenset(
    [
        "theo",
        "cua",
        "trong",
        "tai",
        "tren",
        "ve",
        "duoc",
        "do",
        "va",
        "cho",
        "voi",
        "de",
        "nam",
        "so",
        "tro",
        "hang",
        "moi",
        "tu",
        "den",
    ]
)
_UNIT_WORDS = 4


@dataclass(frozen=True)
class Target:
    kind: str  # PERCENT | COUNT
    value: float
    op: str  # ">" (trên), ">=" (ít nhất, từ … trở lên, plain "100%")
    phrase: str  # the clause of the plan that states it: "Bảo đảm tỷ lệ … trên 95%"
    unit: str = ""  # a count's noun, as written: "hoạt động"; "" for a percentage


def _ends(text: str) -> list[tuple[int, int]]:
    """Spans that end a clause. A dash is a bullet only before a capital or a figure ("- Tỷ
    lệ", "-100%"), not inside a compound ("kinh tế - xã hội") or a range ("80% - 100%")."""
    spans = []
    for match in _CLAUSE_END.finditer(text):
        mark = match.group()
        if mark.strip().startswith("-"):
            after = text[match.end() : match.end() + 1]
            before = text[: match.start()].rstrip()[-1:]
            is_range = after.isdigit() and before != "" and before in "%0123456789"
            if not (after.isupper() or after.isdigit()) or is_range:
                continue
        spans.append(match.span())
    return spans


def _clause(text: str, start: int, end: int) -> str:
    """The clause of `text` around the span [start, end): between the nearest clause ends."""
    spans = _ends(text)
    left = max((e for s, e in spans if e <= start), default=0)
    right = min((s for s, e in spans if s >= end), default=len(text))
    return text[left:right].strip(" ,:-\t").strip()


def _unit(text: str, folded: str, start: int) -> str:
    """The count's noun after the number at `start`: words up to a complement or a comma."""
    words: list[str] = []
    for match in re.finditer(r"[^\s,;.()]+|[,;.()]", folded[start:]):
        word = match.group()
        if not word[0].isalpha() or word in _UNIT_STOP or len(words) == _UNIT_WORDS:
            break
        words.append(text[start + match.start() : start + match.end()])
    return " ".join(words)


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
        phrase = _clause(text, *match.span())
        found.append((match.start(), Target(PERCENT, value, op, phrase)))
    for match in _COUNT.finditer(folded):
        if match.group("unit").split()[0] in _TIME_UNITS:
            continue
        value = float(match.group("n"))
        phrase = _clause(text, *match.span())
        unit = _unit(text, folded, match.start("unit"))
        found.append((match.start(), Target(COUNT, value, ">=", phrase, unit)))
    return [target for _, target in sorted(found, key=lambda item: item[0])]


def with_unit(target: Target | None, figure: str) -> str:
    """A stored figure as a reader needs it: "3" of a count → "3 hoạt động"; "96%" stays."""
    if target is None or target.kind != COUNT or not target.unit:
        return figure
    number = parse_number(figure)
    if number is None or not figure.strip().replace(".", "").replace(",", "").isdigit():
        return figure
    return f"{figure.strip()} {target.unit}"


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
