"""TelegramChannel (core.channel.Channel) against the fake Bot API: rendering and error mapping."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlmodel import select
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.channel import TelegramChannel, maybe_delivered
from core.channel import (
    Blocked,
    ChatMigrated,
    ChatNotFound,
    MaybeDelivered,
    PermanentError,
    RetryAfter,
    Sent,
    TransientError,
)
from core.outgoing import Button, Document, Outgoing
from storage.chat.evidence import evidence_loader
from storage.db import transaction
from storage.tables.shared import Agency, EvidenceFile, StatusReport, Task

CHAT = 5001


def make_bot(api, transport: str, **timeouts):
    """A Bot on PTB's default httpx transport or on parbot's aiohttp one (production)."""
    if transport == "aiohttp":
        return api.make_bot(request=AiohttpRequest(4, **timeouts))
    return api.make_bot(request=HTTPXRequest(**timeouts)) if timeouts else api.make_bot()


@pytest.fixture(params=["aiohttp", "httpx"])
def transport(request):
    return request.param


async def test_send_renders_buttons_long_text_documents_and_photos(
    fake_api, engine, tmp_path, transport
):
    api = fake_api
    report_file = tmp_path / "tổng-hợp.xlsx"
    report_file.write_bytes(b"PK\x03\x04 xlsx bytes")
    with transaction(engine) as session:
        task = session.exec(select(Task).limit(1)).one()
        agency = session.exec(select(Agency).limit(1)).one()
        report = StatusReport(
            receipt="BC-2024-999999", task_id=task.id, agency_id=agency.id, status="done"
        )
        session.add(report)
        session.flush()
        evidence = EvidenceFile(
            report_id=report.id, file_name="bien-ban.pdf", sha256="0", content=b"%PDF-evidence"
        )
        session.add(evidence)
        session.flush()
        evidence_id = evidence.id
    async with make_bot(api, transport) as bot:
        channel = TelegramChannel(bot, evidence_loader(engine))
        sent = await channel.send(
            str(CHAT),
            Outgoing(
                "Nhắc việc", buttons=[[Button("Báo cáo ngay", "b:abc")], [Button("Sau", "b:d")]]
            ),
        )
        assert isinstance(sent, Sent) and sent.message_id.isdigit()
        call = api.last_message(CHAT)
        assert [b["callback_data"] for b in call.buttons] == ["b:abc", "b:d"]

        await channel.send(str(CHAT), Outgoing("dòng dài\n" * 700))  # 6,300 characters
        texts = [c.text for c in api.sent_messages(CHAT)[-2:]]
        assert all(len(t) <= 4096 for t in texts) and "".join(texts).count("dòng dài") == 700

        await channel.send(
            str(CHAT),
            Outgoing("Báo cáo tổng hợp", document=Document("tổng-hợp.xlsx", path=str(report_file))),
        )
        await channel.send(
            str(CHAT), Outgoing("Tài liệu", document=Document("x", evidence_id=evidence_id))
        )
        await channel.send(
            str(CHAT), Outgoing("Biểu đồ", photo=Document("c.png", path=str(report_file)))
        )
        files = api.uploaded_files()
        assert [(f.file_name, f.content) for f in files[:2]] == [
            ("tổng-hợp.xlsx", b"PK\x03\x04 xlsx bytes"),
            ("bien-ban.pdf", b"%PDF-evidence"),
        ]
        assert api.calls_to("sendPhoto")[-1].ok

        await channel.edit(str(CHAT), sent.message_id, Outgoing("Đã báo cáo"))
        await channel.edit(str(CHAT), sent.message_id, Outgoing("Đã báo cáo"))  # not modified
        assert api.get_message(CHAT, int(sent.message_id))["text"] == "Đã báo cáo"

        with pytest.raises(PermanentError):
            await channel.send(
                str(CHAT), Outgoing("x", document=Document("gone.pdf", path="/nope"))
            )


@pytest.mark.parametrize(
    ("arrange", "error", "check"),
    [
        (
            lambda api: api.fail_next("sendMessage", status=429, retry_after=7),
            RetryAfter,
            lambda e: e.seconds == 7,
        ),
        (lambda api: api.block_chat(CHAT), Blocked, None),
        (lambda api: api.missing_chat(CHAT), ChatNotFound, None),
        (
            lambda api: api.migrate_chat(CHAT, -1009),
            ChatMigrated,
            lambda e: e.new_chat_id == "-1009",
        ),
        (lambda api: api.fail_next("sendMessage", status=500), TransientError, None),
        (lambda api: api.fail_next("sendMessage", status=502), TransientError, None),
        (lambda api: api.fail_next("sendMessage", disconnect=True), TransientError, None),
        (lambda api: api.fail_next("sendMessage", delay=1.5), TransientError, None),
        (
            lambda api: api.fail_next(
                "sendMessage", status=400, description="Bad Request: message text is empty"
            ),
            PermanentError,
            None,
        ),
    ],
)
async def test_platform_errors_become_core_delivery_errors(
    fake_api, arrange, error, check, transport
):
    arrange(fake_api)
    async with make_bot(fake_api, transport, read_timeout=0.5, connect_timeout=2) as bot:
        with pytest.raises(error) as caught:
            await TelegramChannel(bot).send(str(CHAT), Outgoing("xin chào"))
    if check is not None:
        assert check(caught.value)


async def test_transport_errors_never_show_the_url_with_the_token():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "123456:SECRET-part-of-the-token"
    request = AiohttpRequest(2, connect_timeout=1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{token}/getMe")
    finally:
        await request.shutdown()
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value)


def test_maybe_delivered_reads_the_exception_chain():
    refused = TransientError("network")
    refused.__cause__ = httpx.ConnectError("refused")
    assert maybe_delivered(refused) is False
    assert maybe_delivered(TransientError("500 Internal Server Error")) is False
    flagged = TransientError("x")
    flagged.maybe_delivered = True  # type: ignore[attr-defined]
    assert maybe_delivered(flagged) is True


def test_a_read_timeout_is_maybe_delivered_a_refused_connection_is_not():
    from telegram import error as tg

    from bot.channels.telegram.channel import map_error

    timed_out = tg.TimedOut()
    timed_out.__cause__ = httpx.ReadTimeout("read timeout")
    refused = tg.NetworkError("connect")
    refused.__cause__ = httpx.ConnectError("refused")
    assert isinstance(map_error(timed_out), MaybeDelivered)
    mapped = map_error(refused)
    assert isinstance(mapped, TransientError) and not isinstance(mapped, MaybeDelivered)
