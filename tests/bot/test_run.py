"""`parbot run` with a token: polling in a real process, webhook mode, logs without the token."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.channels.telegram.adapter import build_application
from bot.channels.telegram.webhook import webhook, without_updater
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry, main
from bot.settings import Settings
from core.clock import FixedClock
from core.model import UserRole
from storage.tables.chat import PendingUpload, ProcessedUpdate
from tests.bot.chat.test_security import link
from tests.support.chat import T0
from tests.support.run_process import open_status_step, start_run, stop_run

ROOT = Path(__file__).resolve().parents[2]
USER, STRANGER = 6001, 6002


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret_token_header(engine, fake_api):
    api = fake_api
    port = free_port()
    registry = build_registry()
    dispatcher = Dispatcher(engine, registry, FixedClock(T0))
    app, adapter = build_application(
        api.token, api.base_url, dispatcher, registry, engine, configure=without_updater
    )
    url = "https://parbot.example.gov.vn/webhooks/telegram"
    async with webhook(
        app, adapter, listen="127.0.0.1", port=port, url=url, secret="s3cret-Token_1"
    ):
        assert api.webhook["url"] == url and api.webhook["secret_token"] == "s3cret-Token_1"
        forged = api.make_command(STRANGER, "start")
        genuine = api.make_command(STRANGER, "help")
        endpoint = f"http://127.0.0.1:{port}/webhooks/telegram"
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                endpoint, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            missing = await client.post(endpoint, json=forged)
            right = await client.post(
                endpoint,
                json=genuine,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"},
            )
        assert (wrong.status_code, missing.status_code, right.status_code) == (403, 403, 200)
        await api.await_message(STRANGER, contains="/start")
    with Session(engine) as session:
        done = {row.update_id for row in session.exec(select(ProcessedUpdate))}
    assert done == {str(genuine["update_id"])}
    assert len(api.sent_messages(STRANGER)) == 1


def test_parbot_run_polls_and_never_logs_the_token(engine, fake_api, tmp_path):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    proc = start_run(engine, api, tmp_path, PARBOT_LOG_LEVEL="DEBUG")
    try:
        api.wait_for("getUpdates", timeout=60)
        mark = api.mark()
        api.user_command(STRANGER, "start")
        api.wait_for_message(STRANGER, contains="mã mời", since=mark, timeout=15)
        status, done = open_status_step(api, USER, mark)
        api.press_button(USER, status.message_id, done["callback_data"])
        api.wait_for_message(USER, contains="mô tả ngắn", since=mark, timeout=15)
        api.user_text(USER, "Đã xong")
        api.wait_for_message(USER, contains="trên 95%", since=mark, timeout=15)
        api.user_text(USER, "99")
        api.user_text(USER, "bỏ qua")
        api.wait_for_message(USER, contains="Tài liệu kiểm chứng", since=mark, timeout=15)
        api.user_document(USER, "kq.pdf", b"%PDF-1.4 run", "application/pdf")
        api.wait_for_message(USER, contains="Đã nhận “kq.pdf”", since=mark, timeout=15)
    finally:
        stderr = stop_run(proc)
    assert proc.returncode == 0, stderr[-2000:]
    secret = api.token.split(":", 1)[1]
    assert "level=DEBUG" in stderr and "logger=telegram" in stderr  # DEBUG really was on
    assert "getUpdates" in stderr and "getFile" in stderr  # the calls that carry the token
    assert api.token not in stderr and secret not in stderr
    with Session(engine) as session:  # the file was downloaded: it waits in the open flow
        [upload] = session.exec(select(PendingUpload)).all()
    assert upload.content == b"%PDF-1.4 run"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_rejected_token_fails_cleanly_without_printing_it(
    engine, fake_api, capfd, monkeypatch, restore_logging
):
    bad = "654321:WRONG-SECRET-xyz"
    monkeypatch.setenv("PARBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bad)
    monkeypatch.setenv("TELEGRAM_API_URL", fake_api.base_url)
    monkeypatch.setenv("PARBOT_LOG_LEVEL", "DEBUG")
    assert main(Settings()) == 1
    err = capfd.readouterr().err
    assert "từ chối TELEGRAM_BOT_TOKEN" in err and "level=DEBUG" in err
    assert "WRONG-SECRET" not in err
    assert fake_api.calls_to("getMe")  # it did try, with the bad token
