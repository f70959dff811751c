"""What the bot says, independent of the channel that will carry it.

Services build `Outgoing` values; the outbox stores them as JSON; channel adapters render
them (an inline keyboard on Telegram, a numbered list on Zalo and the console).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # opaque callback data: a server-side token, never trusted on its own


@dataclass
class Document:
    file_name: str
    evidence_id: int | None = None  # bytes held in evidence_file
    path: str | None = None  # or a generated file on disk (reports)
    mime_type: str = "application/octet-stream"


@dataclass
class Notice:
    """The facts of a reminder, for a channel that may send only a fixed template approved in
    advance instead of free text (Zalo's ZNS, outside the Official Account's reply window):
    what it is about and by when. The channel shortens them to its template's limits."""

    ref: str  # the task's reference ("III.4.1"; several joined), or the round's code
    title: str  # the task's title, or the round's; several tasks: a counted phrase
    deadline: str | None = None  # ISO date


@dataclass
class Outgoing:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    document: Document | None = None
    photo: Document | None = None
    notice: Notice | None = None  # reminders: their facts for template-only channels

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Outgoing:
        data: dict[str, Any] = json.loads(raw)
        buttons = [[Button(**b) for b in row] for row in data.get("buttons") or []]
        document = Document(**data["document"]) if data.get("document") else None
        photo = Document(**data["photo"]) if data.get("photo") else None
        notice = Notice(**data["notice"]) if data.get("notice") else None
        return cls(
            text=data["text"], buttons=buttons, document=document, photo=photo, notice=notice
        )
