"""Vietnamese text normalisation.

Officials type on phones that emit NFD, copy from Word files that hold NFC, and spell agency
names with or without diacritics and capitals. Everything that compares text goes through
`fold` so that "Sở Nội vụ", "SỞ NỘI VỤ" and "so noi vu" meet.
"""

from __future__ import annotations

import html
import re
import unicodedata

_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,400}>")


def nfc(text: str) -> str:
    """NFC-normalise so composed and decomposed Vietnamese compare equal."""
    return unicodedata.normalize("NFC", text)


def clean(text: str | None) -> str:
    """Text as stored: NFC, HTML remnants removed, whitespace collapsed to single spaces."""
    if not text:
        return ""
    text = nfc(text)
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    return _WS.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case, diacritic-free form for matching (đ becomes d)."""
    text = unicodedata.normalize("NFD", clean(text).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return text.replace("đ", "d")
