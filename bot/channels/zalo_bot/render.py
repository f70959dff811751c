"""Outgoing → Zalo text: numbered choices and a code-point splitter (Zalo counts characters).

Shared by the Bot Platform and the OA channel: both cap a message at 2,000 characters.
"""

from __future__ import annotations

from core.outgoing import Outgoing
from messages.render import render

MAX_TEXT = 2000


def numbered(message: Outgoing) -> str:
    """The BRIEF convention: buttons numbered 1..n row-major, one `n. Label` line each."""
    labels = [button.text for row in message.buttons for button in row]
    if not labels:
        return message.text
    lines = [message.text, "", render("zalo/choices_hint.j2").strip()]
    lines += [f"{n}. {label}" for n, label in enumerate(labels, 1)]
    return "\n".join(lines)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` code points, cut at a line break, else a space, else hard."""
    text = text.strip("\n") or " "
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [p for p in parts if p] or [" "]
