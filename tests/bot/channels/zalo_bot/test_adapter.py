"""Events in, answers out: webhook secret, unsupported and unknown events, a refused token."""

from __future__ import annotations

import asyncio
import json
import logging

from bot.channels.zalo_bot.webhook import handle_webhook
from tests.bot.channels.zalo_bot.support import ZaloChat
from tests.fakes.zalo.bot import FakeZaloBot

USER = "6ede9afa66b88fe6d6a9"
SECRET = "webhook-secret-0123456789"


async def test_webhook_checks_the_secret_and_accepts_both_body_shapes(engine):
    with FakeZaloBot() as api:
        chat = ZaloChat(api, engine)
        await chat.start()
        try:
            update = api.make_text(USER, "/help")
            body = json.dumps(update).encode()
            assert await handle_webhook(chat.adapter, SECRET, {}, body) == 403
            wrong = {"X-Bot-Api-Secret-Token": SECRET[:-1] + "x"}
            assert await handle_webhook(chat.adapter, SECRET, wrong, body) == 403
            assert await handle_webhook(chat.adapter, "", {}, body) == 403  # no secret: closed
            good = {"x-bot-api-secret-token": SECRET}
            assert await handle_webhook(chat.adapter, SECRET, good, b"{not json") == 400
            mark = api.mark()
            assert await handle_webhook(chat.adapter, SECRET, good, body) == 200
            wrapped = {"ok": True, "result": api.make_text(USER, "/help")}
            assert (
                await handle_webhook(chat.adapter, SECRET, good, json.dumps(wrapped).encode())
                == 200
            )
            await asyncio.gather(*chat.adapter.tasks)
            assert len(api.sent(USER, since=mark)) == 2
            # the same event again (a webhook retry): nothing more is sent
            assert await handle_webhook(chat.adapter, SECRET, good, body) == 200
            await asyncio.gather(*chat.adapter.tasks)
            assert len(api.sent(USER, since=mark)) == 2
        finally:
            await chat.stop()


async def test_unsupported_is_answered_politely_and_unknown_is_logged_without_content(
    engine, caplog
):
    caplog.set_level(logging.INFO, logger="parbot")
    with FakeZaloBot() as api:
        chat = await ZaloChat(api, engine).start()
        try:
            sent = await chat.send(api.make_unsupported(USER))
            assert "Zalo không chuyển nội dung" in sent[-1].text
            sent = await chat.send(api.make_sticker(USER))
            assert sent, "a sticker gets an answer"
            sent = await chat.send(api.make_event(USER, "message.location.received"))
            assert sent == []
            assert "message.location.received" in caplog.text
            assert "bí mật" not in caplog.text
        finally:
            await chat.stop()


async def test_server_errors_back_off_and_polling_goes_on(engine):
    with FakeZaloBot() as api:
        chat = await ZaloChat(api, engine).start()
        try:
            api.fail_next("getUpdates", 502, 500)
            sent = await chat.send(api.make_text(USER, "/help"), timeout=20)
            assert sent
        finally:
            await chat.stop()
