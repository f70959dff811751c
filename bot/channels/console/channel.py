"""The console `Channel`: proactive messages (reminders, digests) printed to the terminal.

A text channel like Zalo's Bot Platform: numbered choices (the mapping lives in the database,
written by the dispatcher and the delivery worker), no edits, no documents (files are links
from the `FileLinks` port, or the line naming the operator's command). Same interface as
TelegramChannel, so the outbox worker runs unchanged when parbot is tried without a token.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import TextIO

from bot.channels.console.render import as_text
from core.channel import TEXT_CAPABILITIES, ChannelLimits, Sent
from core.outgoing import Outgoing

CONSOLE_CAPABILITIES = replace(TEXT_CAPABILITIES, max_text=100_000)


class ConsoleChannel:
    name = "console"
    capabilities = CONSOLE_CAPABILITIES

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.limits = ChannelLimits(per_second=1000, per_chat_per_second=1000, max_text=100_000)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def is_group(self, chat_id: str) -> bool:
        return False

    def invite_link(self, code: str) -> str | None:
        return None  # the code is typed: /start CODE

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        return self.write(message)

    def write(self, message: Outgoing) -> Sent:
        with self._lock:
            self.out.write(as_text(message) + "\n")
            self.out.flush()
            return Sent(str(next(self._ids)))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        await self.send(chat_id, message)
