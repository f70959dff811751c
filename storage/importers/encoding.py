"""The text encodings plan tables arrive in, told apart without guessing from the bytes alone.

Excel's "Unicode text" export is UTF-16 little-endian with a BOM and tabs; "CSV UTF-8" is
UTF-8 with a BOM; older "CSV" exports on a Vietnamese Windows are Windows-1258 (which writes
tone marks as combining characters, so the result is NFC-normalised). The order of the checks
is what makes it reliable: a BOM says it outright; otherwise valid UTF-8 is UTF-8 (legacy
8-bit Vietnamese text is essentially never valid UTF-8); a NUL in every other byte is UTF-16
without a BOM; anything else is Windows-1258, the only 8-bit code page that holds Vietnamese.
A statistical detector (charset-normalizer) was not needed for these four and would guess
where these rules know.
"""

from __future__ import annotations

import codecs

from core.text import nfc

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect(raw: bytes) -> str:
    """The codec name of `raw`: utf-8-sig, utf-16, utf-16-le/-be, utf-8 or cp1258."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return codec
    head = raw[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):  # ASCII-heavy UTF-16, no BOM
        odd_zeros = head[1::2].count(0)
        return "utf-16-le" if odd_zeros >= head[0::2].count(0) else "utf-16-be"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def decode_table(raw: bytes) -> str:
    """`raw` as NFC text; UnicodeDecodeError when it is damaged UTF-16."""
    codec = detect(raw)
    return nfc(raw.decode(codec, errors="strict" if codec.startswith("utf-16") else "replace"))


def looks_binary(text: str) -> bool:
    """Decoded text full of control characters was not text (a renamed binary). A stray NUL
    or two in a real table is not a reason to refuse it: the text rule removes them."""
    head = text[:4096]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r")
    return controls > max(8, len(head) // 100)
