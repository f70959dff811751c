"""Every string of an incoming `Request` through the one sanitising rule (`core.text.sanitize`).

Called once at the top of the dispatcher, whatever the channel: the text, a command's name and
arguments, button data, the display name and a file's name. The file name is also shortened to
255 bytes keeping its extension (`core.evidence.safe_file_name`). What was removed is returned
per field so that the dispatcher can audit it: a NUL in a first name or in callback data is a
sign of a broken client or of someone probing, and an operator should be able to see it.
"""

from __future__ import annotations

from dataclasses import replace

from core.commands import Request
from core.evidence import safe_file_name
from core.text import removed_count, sanitize


def clean_request(request: Request) -> tuple[Request, dict[str, int]]:
    """The request as every handler sees it, and {field: characters removed} (empty: clean)."""
    removed: dict[str, int] = {}

    def field(name: str, value: str) -> str:
        count = removed_count(value)
        if count:
            removed[name] = count
        return sanitize(value)

    changes: dict[str, object] = {
        "text": field("text", request.text),
        "display_name": field("display_name", request.display_name),
        "chat_id": field("chat_id", request.chat_id),
        "user_id": field("user_id", request.user_id),
    }
    if request.command is not None:
        changes["command"] = field("command", request.command)
    if request.button is not None:
        changes["button"] = field("button", request.button)
    if request.file is not None:
        name = safe_file_name(request.file.file_name)
        if removed_count(request.file.file_name):
            removed["file_name"] = removed_count(request.file.file_name)
        changes["file"] = replace(
            request.file, file_name=name, mime_type=sanitize(request.file.mime_type)[:100]
        )
    return replace(request, **changes), removed  # type: ignore[arg-type]
