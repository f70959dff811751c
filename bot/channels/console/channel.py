"""The console `Channel`: proactive messages (reminders, digests) printed to the terminal.

A text channel like Zalo's Bot Platform: numbered choices (the mapping lives in the database,
written by the dispatcher and the delivery worker), no edits, no documents (files are links
from the `FileLinks` port, or the line naming the operator's command). Same interface as
TelegramChannel, so the outbox worker runs unchanged when parbot is tried without a token.
Everything delivered on the console channel is printed; a message for someone other than the
person at the keyboard (the demo focal points of storage/demo_recipients.py) is printed under
their name (`label_of`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.console.render import as_text
from core.channel import TEXT_CAPABILITIES, ChannelLimits, Sent
from core.outgoing import Outgoing
from messages.render import render
from storage.demo_recipients import demo_recipient

# files do reach the bot on the console (`/tep PATH`), so its evidence step needs no upload link
CONSOLE_CAPABILITIES = replace(TEXT_CAPABILITIES, max_text=100_000, inbound_files=True)

LabelOf = Callable[[str], str | None]  # chat id -> a header naming the recipient, or None


def demo_recipient_label(engine: Engine) -> LabelOf:
    """Headers for messages delivered to the demo focal points (`parbot demo seed`)."""

    def label(chat_id: str) -> str | None:
        with Session(engine) as session:
            who = demo_recipient(session, chat_id)
        if who is None:
            return None
        return render("demo/console_recipient.j2", person=who.name, agency=who.agency)

    return label


class ConsoleChannel:
    name = "console"
    capabilities = CONSOLE_CAPABILITIES

    def __init__(self, out: TextIO, label_of: LabelOf | None = None) -> None:
        self.out = out
        self.label_of = label_of
        self.limits = ChannelLimits(per_second=1000, per_chat_per_second=1000, max_text=100_000)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def is_group(self, chat_id: str) -> bool:
        return False

    def invite_link(self, code: str) -> str | None:
        return None  # the code is typed: /start CODE

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        header = self.label_of(chat_id) if self.label_of is not None else None
        return self.write(message, header)

    def write(self, message: Outgoing, header: str | None = None) -> Sent:
        with self._lock:
            if header:
                self.out.write(header + "\n")
            self.out.write(as_text(message) + "\n")
            self.out.flush()
            return Sent(str(next(self._ids)))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        await self.send(chat_id, message)
