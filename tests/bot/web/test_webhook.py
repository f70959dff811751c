"""The Telegram webhook in the web companion: secret first, bounded bodies, updates processed."""

from __future__ import annotations

import httpx

from bot.channels.telegram.adapter import build_application
from bot.channels.telegram.webhook import webhook, without_updater
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from tests.bot.test_run import free_port
from tests.support.chat import T0

SECRET = "s3cret-Token_2"
USER = 6101


async def test_webhook_refuses_strangers_unread_and_caps_bodies_at_one_megabyte(engine, fake_api):
    api = fake_api
    registry = build_registry()
    dispatcher = Dispatcher(engine, registry, FixedClock(T0))
    app, adapter = build_application(
        api.token, api.base_url, dispatcher, registry, engine, configure=without_updater
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    async with webhook(app, adapter, listen="127.0.0.1", port=port, url=url, secret=SECRET):
        assert api.webhook["url"] == url
        async with httpx.AsyncClient(timeout=30) as client:
            huge = b"x" * (8 * 1024 * 1024)
            stranger = await client.post(url, content=huge)
            declared = await client.post(
                url, content=huge, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )

            async def chunks():
                for _ in range(40):
                    yield b"y" * 65536  # 2.5 MB without a Content-Length

            chunked = await client.post(
                url, content=chunks(), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            broken = await client.post(
                url, content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            genuine = await client.post(
                url,
                json=api.make_command(USER, "help"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        codes = (stranger.status_code, declared.status_code, chunked.status_code)
        assert codes == (403, 413, 413)
        assert (broken.status_code, genuine.status_code) == (400, 200)
        await api.await_message(USER, contains="/start")
    assert len(api.sent_messages(USER)) == 1


def test_parbot_run_in_webhook_mode_serves_telegram_through_the_web_companion(
    engine, fake_api, tmp_path
):
    import os
    import signal
    import subprocess
    import sys

    api = fake_api
    port = free_port()
    env = {
        **os.environ,
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PARBOT_WEB_LISTEN": f"127.0.0.1:{port}",
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    env.pop("PARBOT_WEB_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        api.wait_for("setWebhook", timeout=90)
        url = f"http://127.0.0.1:{port}/webhooks/telegram"
        assert api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
        mark = api.mark()
        answer = httpx.post(
            url, json=api.make_command(USER, "help"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert answer.status_code == 200
        api.wait_for_message(USER, contains="/start", since=mark, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    assert "route=/webhooks/telegram status=200" in stderr
    assert SECRET not in stderr and api.token not in stderr
