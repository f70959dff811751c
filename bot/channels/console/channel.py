"""The console `Channel`: proactive messages (reminders, digests) printed to the terminal.

Same interface as TelegramChannel, so the outbox worker runs unchanged when parbot is tried
without a Telegram token.
"""

from __future__ import annotations

import itertools
import threading
from typing import TextIO

from bot.channels.console.render import as_text
from core.channel import TEXT_CAPABILITIES, ChannelLimits, Sent
from core.outgoing import Outgoing


class ConsoleChannel:
    name = "console"
    capabilities = TEXT_CAPABILITIES

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.limits = ChannelLimits(per_second=1000, per_chat_per_second=1000, max_text=100_000)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        with self._lock:
            self.out.write(as_text(message) + "\n")
            self.out.flush()
            return Sent(str(next(self._ids)))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        await self.send(chat_id, message)
