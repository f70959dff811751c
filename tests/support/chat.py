"""Test helpers of the chat tests: a real PTB bot on the fake Bot API, and users who talk to it.

`ChatBot` runs the production wiring (bot.channels.telegram.adapter) against
`tests.fakes.botapi`; its
helpers wait for what the bot sends and press buttons by their label, the way a person would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram.adapter import build_application, polling
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry, chat_config
from bot.settings import Settings
from core.clock import FixedClock
from core.conversation import Limits
from core.model import UserRole
from storage.chat.invites import create_invite
from storage.db import transaction
from storage.tables.chat import ProcessedUpdate
from storage.tables.shared import Agency
from tests.fakes.botapi import Call, FakeBotApi

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, while round KH-CAITHIEN is open


def invite_code(engine: Engine, agency_code: str | None, role: UserRole, now: datetime = T0) -> str:
    with transaction(engine) as session:
        agency_id = None
        if agency_code:
            agency_id = session.exec(select(Agency.id).where(Agency.code == agency_code)).one()
        return create_invite(session, agency_id, role, now + timedelta(days=7), "test", now)


class ChatBot:
    """The production bot (adapter + dispatcher + chat feature) against a fake Bot API."""

    def __init__(
        self,
        api: FakeBotApi,
        engine: Engine,
        clock: FixedClock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.api = api
        self.engine = engine
        self.clock = clock or FixedClock(T0)
        self.limits = limits or Limits()
        self._serving: Any = None
        self.done: set[int] = set()  # update ids whose handling (and replies) finished
        self._changed = asyncio.Event()
        self.app: Any = None
        self.dispatcher: Dispatcher | None = None

    async def start(self) -> ChatBot:
        registry = build_registry()
        # the settings of the test's environment (PARBOT_DATA_DIR…), as `parbot run` reads them
        config = chat_config(Settings())
        self.dispatcher = Dispatcher(self.engine, registry, self.clock, self.limits, config=config)
        self.app, adapter = build_application(
            self.api.token, self.api.base_url, self.dispatcher, registry, self.engine
        )
        handler = self.app.handlers[0][0]
        original = handler.callback

        async def counted(update: Any, context: Any) -> None:
            try:
                await original(update, context)
            finally:
                self.done.add(update.update_id)
                self._changed.set()

        handler.callback = counted
        self._serving = polling(self.app, adapter, poll_timeout=1)
        await self._serving.__aenter__()
        return self

    async def stop(self) -> None:
        if self._serving is not None:
            await self._serving.__aexit__(None, None, None)
            self._serving = None

    async def restart(self) -> None:
        """A new process, as far as the bot can tell: new Application, dispatcher, caches."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> ChatBot:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- waiting for the bot
    async def processed(self, update: dict[str, Any], timeout: float = 60.0) -> None:
        """Until the bot finished the update: committed, replies sent (or a replay skipped).

        A wait, not a speed check (speed is bench/chat_latency.py): a whole-province /tonghop
        builds three files, which takes several seconds on a busy 2-core machine."""
        update_id = update["update_id"]
        async with asyncio.timeout(timeout):
            while update_id not in self.done:
                self._changed.clear()
                if update_id in self.done:
                    break
                await self._changed.wait()

    def was_recorded(self, update: dict[str, Any]) -> bool:
        with Session(self.engine) as session:
            return session.get(ProcessedUpdate, ("telegram", str(update["update_id"]))) is not None

    async def send(self, update: dict[str, Any], expect: str | None = None) -> list[Call]:
        """Queue an update built with api.make_*; return the messages the bot sent for it."""
        mark = self.api.mark()
        self.done.discard(update["update_id"])
        self.api.inject(update)
        chat = _chat_of(update)
        if expect is not None:
            await self.api.await_message(chat, contains=expect, since=mark, timeout=10)
        await self.processed(update)
        return [c for c in self.api.sent_messages(chat) if c.seq >= mark]

    async def text(self, user: int, text: str, expect: str | None = None) -> list[Call]:
        return await self.send(self.api.make_text(user, text), expect)

    async def command(
        self, user: int, name: str, args: str | None = None, expect: str | None = None
    ) -> list[Call]:
        return await self.send(self.api.make_command(user, name, args), expect)

    def last_with_buttons(self, chat: int) -> Call:
        for call in reversed(self.api.sent_messages(chat)):
            if call.method in ("sendMessage", "editMessageText") and call.buttons:
                return call
        raise AssertionError(f"no message with buttons in chat {chat}")

    async def press(self, user: int, label: str, expect: str | None = None) -> list[Call]:
        """Press the button whose text contains `label` on the latest message with buttons."""
        call = self.last_with_buttons(user)
        message_id = call.message_id or int(call.params["message_id"])
        for button in call.buttons:
            if label in button["text"]:
                update = self.api.make_button_press(user, message_id, button["callback_data"])
                return await self.send(update, expect)
        texts = [b["text"] for b in call.buttons]
        raise AssertionError(f"no button {label!r} on message {message_id}: {texts}")


def _chat_of(update: dict[str, Any]) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    return int(update["message"]["chat"]["id"])


def texts(calls: list[Call]) -> str:
    return "\n---\n".join(c.text for c in calls)
