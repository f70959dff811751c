"""Splitting long messages into parts a platform accepts: the one splitter every channel uses.

Each channel states its limit and how it counts length (`core.channel.Capabilities`: Telegram
4,096 UTF-16 units, Zalo 2,000 characters).

A compiled list of overdue agencies easily passes the limit. Cutting at an arbitrary character
would break a word, a Vietnamese letter's combining mark or an emoji in half, so we cut at the
last line break, else the last space, and only as a last resort inside a word.
"""

from __future__ import annotations

import unicodedata

from core.channel import LengthUnit


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (emoji outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def length(text: str, unit: LengthUnit = LengthUnit.UTF16) -> int:
    """`text`'s length as a platform counting in `unit` sees it."""
    return utf16_len(text) if unit is LengthUnit.UTF16 else len(text)


def _fit(text: str, limit: int, unit: LengthUnit) -> int:
    """The largest prefix length (in characters) of `text` within `limit` units."""
    if unit is LengthUnit.CODE_POINTS:
        return min(len(text), limit)
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _safe_cut(text: str, cut: int) -> int:
    """Move a hard cut left so that no combining mark starts the next part."""
    while 0 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1
    return cut or 1


def split_text(text: str, limit: int = 4096, unit: LengthUnit = LengthUnit.UTF16) -> list[str]:
    """Parts of at most `limit` units (counted in `unit`), cut at line, then word boundaries."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    rest = text
    while length(rest, unit) > limit:
        window = _fit(rest, limit, unit)
        head = rest[:window]
        cut = head.rfind("\n")
        if cut < window // 2:
            space = head.rfind(" ")
            cut = space if space >= window // 2 else -1
        if cut <= 0:
            cut = _safe_cut(rest, window)
            parts.append(rest[:cut])
            rest = rest[cut:]
            continue
        parts.append(rest[:cut].rstrip())
        rest = rest[cut + 1 :].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return [p for p in parts if p] or [""]


def shorten(text: str, limit: int, unit: LengthUnit = LengthUnit.UTF16) -> str:
    """`text` cut to `limit` units with an ellipsis (an edit or a caption cannot be split)."""
    if length(text, unit) <= limit:
        return text
    return text[: _safe_cut(text, _fit(text, limit - 1, unit))] + "…"
