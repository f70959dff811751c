"""Evidence files checked by what they hold, not only by what they are called.

The extension is what a user (or an attacker) chose; the first bytes are what the file is. An
MZ executable renamed `bien-ban.pdf` must not reach a coordinator who opens every evidence file
of the province. So each allowed extension names the signatures it may carry (PDF `%PDF-`,
Office 2007+ a zip with `[Content_Types].xml` and its `word/` or `xl/` part, old Office the OLE
compound header, JPEG, PNG, zip), and a zip-based file is also inspected with the archive
limits of `core.archives` (a bomb is refused here, not when someone opens it).

File names come from the user too: they are sanitised like any text and shortened to what
a file system stores (255 bytes of UTF-8), keeping the extension so the file still opens.
"""

from __future__ import annotations

from core.archives import ArchiveRefused, ZipLimits, inspect_zip
from core.text import sanitize

MAX_NAME_BYTES = 255

_PDF = (b"%PDF",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_JPEG = (b"\xff\xd8\xff",)
_PNG = (b"\x89PNG\r\n\x1a\n",)

SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": _PDF,
    "doc": _OLE,
    "xls": _OLE,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "zip": _ZIP,
    # A photo saved with the other image extension is still a harmless photo: either is fine.
    "jpg": _JPEG + _PNG,
    "jpeg": _JPEG + _PNG,
    "png": _PNG + _JPEG,
}
_OFFICE_PART = {"docx": "word/", "xlsx": "xl/"}


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def content_problem(name: str, content: bytes, limits: ZipLimits | None = None) -> str | None:
    """None when `content` is what the extension of `name` says; else why not:
    "mismatch" (another kind of file, e.g. a program named .pdf) or "archive" (a zip that is
    damaged or passes the archive limits)."""
    ext = extension(name)
    signatures = SIGNATURES.get(ext)
    if signatures is None:
        return "mismatch"
    if signatures is _PDF:
        # The PDF header may follow a little junk (ISO 32000-1, 7.5.2 readers allow 1 KB).
        if _PDF[0] not in content[:1024]:
            return "mismatch"
    elif not content.startswith(signatures):
        return "mismatch"
    if signatures is _ZIP:
        try:
            summary = inspect_zip(content, limits or ZipLimits())
        except ArchiveRefused:
            return "archive"
        part = _OFFICE_PART.get(ext)
        if part is not None and (
            "[Content_Types].xml" not in summary.names
            or not any(n.startswith(part) for n in summary.names)
        ):
            return "mismatch"
    return None


def safe_file_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """`name` sanitised, without folders, at most `max_bytes` of UTF-8, extension kept."""
    name = sanitize(name).replace("\n", " ").replace("\t", " ")
    name = name.replace("/", "_").replace("\\", "_").strip() or "tep"
    if len(name.encode()) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = max_bytes - len(suffix.encode())
    cut = stem.encode()[:budget].decode(errors="ignore").rstrip()
    return f"{cut}{suffix}"
