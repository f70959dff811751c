"""Vietnamese text normalisation, and the one sanitising rule every input passes.

Officials type on phones that emit NFD, copy from Word files that hold NFC, and spell agency
names with or without diacritics and capitals. Everything that compares text goes through
`fold` so that "Sở Nội vụ", "SỞ NỘI VỤ" and "so noi vu" meet.

`sanitize` is the boundary rule, the same for every channel and the CLI: control characters
(C0 except tab and newline, DEL, C1), lone surrogates, bidirectional overrides and the BOM are
*removed*, carriage returns become newlines, the rest is NFC. Removed rather than refused:
none of them is ever meant by a person typing Vietnamese (they come from copy-paste, broken
clients or an attacker), they are invisible, so a refusal would ask the user to find what they
cannot see and retype a long answer; and PostgreSQL cannot store NUL in text at all while
SQLite stores it silently, so removing it is what makes both databases hold the same bytes.
`is_blank` says that what is left shows nothing (only spaces, zero-width joiners, word
joiners, soft hyphens, fillers…): such an answer counts as empty.
"""

from __future__ import annotations

import html
import re
import unicodedata

_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,400}>")


# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides, isolates and
# marks (Vietnamese is written left to right: U+202E only ever disguises "exe.pdf" as
# "fdp.exe"); the BOM / zero-width no-break space.
_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
# Characters that show nothing although Unicode does not call them spaces.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def sanitize(text: str) -> str:
    """The boundary rule (see the module docstring): controls removed, CR → LF, NFC."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return nfc(_REMOVED.sub("", text))


def removed_count(text: str) -> int:
    """How many characters `sanitize` drops from `text` (for the audit row)."""
    return len(_REMOVED.findall(text.replace("\r\n", "\n")))


def is_blank(text: str) -> bool:
    """Nothing visible: only whitespace, format characters (Cf: ZWJ, ZWNJ, word joiner, soft
    hyphen, bidi controls…), controls and blank-looking fillers."""
    return all(
        ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) in ("Cf", "Cc", "Cs")
        for ch in text
    )


def nfc(text: str) -> str:
    """NFC-normalise so composed and decomposed Vietnamese compare equal."""
    return unicodedata.normalize("NFC", text)


def clean(text: str | None) -> str:
    """Text as stored: NFC, HTML remnants removed, whitespace collapsed to single spaces."""
    if not text:
        return ""
    text = sanitize(text)
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    return _WS.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case, diacritic-free form for matching (đ becomes d)."""
    text = unicodedata.normalize("NFD", clean(text).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return text.replace("đ", "d")
