"""The delivery bot's HTTP transport tells the worker when a request left and when its answer
came back (bot/channels/written_signal.py): the pacer counts each send between the two."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from bot.channels.telegram.delivery import delivery_channel
from core.outgoing import Outgoing
from scheduler.written_signal import REQUEST_WRITTEN, WrittenAt
from tests.fakes.botapi import FakeBotApi


async def test_the_answer_is_stamped_when_its_headers_arrive(empty_engine: Engine) -> None:
    with FakeBotApi() as api:
        channel, bot = delivery_channel(api.token, api.base_url, empty_engine)
        async with bot:
            api.fail_next("sendMessage", delay=0.3)  # the platform takes 0.3 s to answer
            written = WrittenAt()
            token = REQUEST_WRITTEN.set(written)
            try:
                sending = asyncio.ensure_future(channel.send("42", Outgoing("Xin chào")))
            finally:
                REQUEST_WRITTEN.reset(token)
            await sending
            returned = asyncio.get_running_loop().time()
    assert written.at is not None and written.answered_at is not None
    assert written.answered_at - written.at >= 0.25
    assert written.answered_at <= returned
    assert [c.text for c in api.calls if c.method == "sendMessage"] == ["Xin chào"]
