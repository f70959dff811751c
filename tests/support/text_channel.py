"""A test text channel shaped like Zalo's Bot Platform, and a driver that reads like a chat.

No buttons (numbered choices), no edits, no documents, no popups, 2,000 characters counted as
code points, its own rate limits. `TextChat` does what an adapter does — a typed line becomes
a `Request` for the real dispatcher, the replies go out through the channel — so a test drives
the whole seam: dispatcher, numbered-choice table, outbox and delivery worker.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from bot.chat.dispatcher import Dispatcher
from core.channel import TEXT_CAPABILITIES, ChannelLimits, PermanentError, Sent
from core.commands import InputKind, Request
from core.outgoing import Outgoing
from core.text_parts import split_text
from messages.channel_text import numbered_text

NAME = "text"
TEXT_LIMITS = ChannelLimits(
    per_second=20, per_chat_per_second=5, group_per_minute=20, max_text=2000
)


@dataclass
class Said:
    chat_id: str
    text: str
    at: float  # time.monotonic() of the send


@dataclass
class TextChannel:
    """Records what reaches each chat, as the platform would show it (plain text)."""

    name: str = NAME
    limits: ChannelLimits = TEXT_LIMITS
    capabilities = TEXT_CAPABILITIES
    said: list[Said] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        if message.document is not None or message.photo is not None:
            raise PermanentError("this platform carries no files")  # the seam must prevent it
        text = numbered_text(message)
        for part in split_text(text, self.capabilities.max_text, self.capabilities.length_unit):
            assert len(part) <= 2000
            self.said.append(Said(chat_id, part, time.monotonic()))
        return Sent(str(next(self._ids)))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        raise PermanentError("this platform cannot edit messages")

    def is_group(self, chat_id: str) -> bool:
        return False

    def invite_link(self, code: str) -> str | None:
        return None

    def to(self, chat_id: str) -> list[str]:
        return [s.text for s in self.said if s.chat_id == chat_id]


class TextChat:
    """One person typing on the text channel, through the real dispatcher."""

    def __init__(self, dispatcher: Dispatcher, channel: TextChannel, user: str) -> None:
        self.dispatcher, self.channel, self.user = dispatcher, channel, user
        dispatcher.attach(channel)
        self._ids = itertools.count(1)

    async def type(self, line: str) -> str:
        """Send one line; returns everything the bot answered, joined."""
        before = len(self.channel.said)
        if line.startswith("/"):
            head, _, rest = line[1:].partition(" ")
            kind, fields = InputKind.COMMAND, {"command": head.lower(), "text": rest.strip()}
        else:
            kind, fields = InputKind.TEXT, {"text": line}
        request = Request(
            NAME,
            self.user,
            self.user,
            kind,
            dedupe_key=f"{self.user}-{time.monotonic_ns()}-{next(self._ids)}",
            **fields,  # type: ignore[arg-type]
        )
        response = self.dispatcher.handle(request)
        assert response.edit is None and response.acknowledge is None  # no edits, no popups
        for message in response.messages:
            await self.channel.send(self.user, message)
        self.dispatcher.prompt_sent(response)
        return "\n".join(s.text for s in self.channel.said[before:] if s.chat_id == self.user)
