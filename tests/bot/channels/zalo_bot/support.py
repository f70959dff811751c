"""A Zalo Bot Platform bot (adapter + dispatcher + polling) against the fake, for tests."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy.engine import Engine

from bot.channels.zalo_bot.adapter import ZaloBotAdapter
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.polling import poll
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from storage.zalo.alerts import contact_id_of
from tests.fakes.zalo.bot import BotCall, FakeZaloBot
from tests.support.chat import T0


class ZaloChat:
    def __init__(self, api: FakeZaloBot, engine: Engine, links: Any = None) -> None:
        self.api, self.engine, self.links = api, engine, links
        self.files: Any = links  # the dispatcher's FileLinks port, as the channel's (app.files)
        self.clock = FixedClock(T0)
        self.done: set[str] = set()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> ZaloChat:
        self.dispatcher = Dispatcher(self.engine, build_registry(), self.clock, files=self.files)
        self.client = ZaloBotClient(self.api.token, self.api.base_url)
        self.channel = ZaloBotChannel(
            self.client,
            self.links,
            contact_of=lambda chat: contact_id_of(self.engine, "zalo", chat),
        )
        # as ZaloBotService wires it: the dispatcher knows the channel's capabilities and
        # keeps the numbered choices in the database (they survive a restart)
        self.dispatcher.attach(self.channel)
        self.adapter = ZaloBotAdapter(self.dispatcher, self.channel, self.engine)
        original = self.adapter._handle

        async def counted(event: dict[str, Any]) -> None:
            try:
                await original(event)
            finally:
                self.done.add(event["message"]["message_id"])
                self._changed.set()

        self.adapter._handle = counted  # type: ignore[method-assign]
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(poll(self.client, self.adapter, self._stop, timeout=1))
        return self

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.client.aclose()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def send(self, update: dict[str, Any], timeout: float = 10.0) -> list[BotCall]:
        mark = self.api.mark()
        message_id = update["message"]["message_id"]
        self.done.discard(message_id)
        self.api.inject(update)
        async with asyncio.timeout(timeout):
            while message_id not in self.done:
                self._changed.clear()
                await self._changed.wait()
        return self.api.sent(update["message"]["chat"]["id"], since=mark)

    async def text(
        self, user: str, text: str, expect: str | None = None, timeout: float = 10.0
    ) -> str:
        sent = await self.send(self.api.make_text(user, text), timeout)
        said = "\n---\n".join(c.text for c in sent)
        if expect is not None:
            assert expect in said, f"{expect!r} not in reply to {text!r}:\n{said}"
        return said

    async def deliver(self) -> int:
        """One pass of the outbox worker over this channel (what `parbot run` does all along)."""
        from core.calendar import WorkCalendar
        from scheduler.delivery import DeliveryWorker

        worker = DeliveryWorker(self.engine, {"zalo": self.channel}, self.clock, WorkCalendar.of)
        return (await worker.run_once()).sent

    def number_of(self, user: str, label: str) -> str:
        """The number the latest numbered list gives to the choice `label`."""
        for call in reversed(self.api.sent(user)):
            found = re.search(rf"^(\d+)\. [^\n]*{re.escape(label)}", call.text, flags=re.M)
            if found:
                return found.group(1)
        raise AssertionError(f"no numbered choice {label!r} in chat {user}")
