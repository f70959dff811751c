"""The Bot Platform client and channel against the fake: envelope checks, errors, rendering."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import InvalidToken, NothingNew, ZaloBotClient
from bot.channels.zalo_bot.render import split
from core.channel import ButtonStyle, PermanentError, RetryAfter, TransientError
from core.files import UploadTarget
from core.outgoing import Button, Document, Outgoing
from tests.fakes.zalo.bot import FakeZaloBot, fixture

USER = "6ede9afa66b88fe6d6a9"


class Links:
    """An in-process FileLinks: what the web companion will answer."""

    def __init__(self) -> None:
        self.issued: list[tuple[int, str]] = []

    def download(self, contact_id: int, document: Document, ttl: object = None) -> str:
        self.issued.append((contact_id, document.file_name))
        return f"https://parbot.example.gov.vn/f/{contact_id}/{document.file_name}"

    def upload(self, target: UploadTarget, ttl: object = None) -> str | None:
        return None


@pytest.fixture
async def bot():
    with FakeZaloBot() as api:
        client = ZaloBotClient(api.token, api.base_url)
        yield api, client
        await client.aclose()


async def test_get_me_and_webhook_methods_check_ok(bot):
    api, client = bot
    me = await client.get_me()
    assert me == fixture("bot_replies")["getMe"]["result"]
    await client.set_webhook("https://parbot.example.gov.vn/webhooks/zalo", "s" * 16)
    assert (await client.get_webhook_info())["url"].endswith("/webhooks/zalo")
    assert (await client.delete_webhook())["url"] == ""
    with pytest.raises(PermanentError):  # ok:false with HTTP 400 is an error, not a result
        await client.set_webhook("https://x.example", "short")


async def test_get_updates_408_means_nothing_new(bot):
    api, client = bot
    with pytest.raises(NothingNew):
        await client.get_update(timeout=1)
    api.inject(api.make_text(USER, "Xin chào"))
    update = await client.get_update(timeout=1)
    assert update["message"]["text"] == "Xin chào"
    with pytest.raises(NothingNew):  # one update per call and no offset: it is gone
        await client.get_update(timeout=1)


async def test_errors_map_to_delivery_errors(bot):
    api, client = bot
    api.fail_next("sendMessage", 429, 502, 401)
    with pytest.raises(RetryAfter) as quota:
        await client.send_message(USER, "a")
    assert quota.value.seconds > 0
    with pytest.raises(TransientError):
        await client.send_message(USER, "a")
    with pytest.raises(InvalidToken):
        await client.send_message(USER, "a")
    wrong = ZaloBotClient("1:wrong", api.base_url)
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.aclose()


async def test_unreachable_platform_is_transient():
    client = ZaloBotClient("1:x", "http://127.0.0.1:9", timeout=1)
    with pytest.raises(TransientError):
        await client.send_message(USER, "a")
    await client.aclose()


def test_split_keeps_every_character_within_2000_code_points():
    text = "\n".join(f"• Nhiệm vụ {i}: cải cách hành chính 😀 " + "ư" * 90 for i in range(60))
    parts = split(text)
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert split("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


async def test_channel_numbers_buttons_and_splits_long_text(bot):
    api, client = bot
    channel = ZaloBotChannel(client)
    assert channel.capabilities.buttons is ButtonStyle.NUMBERED
    assert not channel.capabilities.documents and not channel.capabilities.edits
    message = Outgoing(
        "Tình trạng?",
        buttons=[
            [Button("Đã hoàn thành", "t1"), Button("Đang thực hiện", "t2")],
            [Button("Huỷ", "t3")],
        ],
    )
    await channel.send(USER, message)
    text = api.sent(USER)[-1].text
    assert text.splitlines()[-3:] == ["1. Đã hoàn thành", "2. Đang thực hiện", "3. Huỷ"]
    assert "t1" not in text  # tokens never shown
    mark = api.mark()
    await channel.send(USER, Outgoing("ư" * 4100))
    assert [len(c.text) for c in api.sent(USER, since=mark)] == [2000, 2000, 100]


async def test_document_becomes_a_link_or_the_operator_note(bot):
    api, client = bot
    report = Document("tong-hop.xlsx", path="/tmp/tong-hop.xlsx")
    links = Links()
    with_links = ZaloBotChannel(client, links, contact_of=lambda chat: 7)
    await with_links.send(USER, Outgoing("Báo cáo tổng hợp", document=report))
    assert "https://parbot.example.gov.vn/f/7/tong-hop.xlsx" in api.sent(USER)[-1].text
    assert links.issued == [(7, "tong-hop.xlsx")]
    without = ZaloBotChannel(client)
    await without.send(USER, Outgoing("Báo cáo tổng hợp", document=report))
    said = api.sent(USER)[-1].text
    assert "parbot report" in said and "http" not in said
    chart = Document("bieu-do.png", path="/tmp/bieu-do.png", mime_type="image/png")
    await with_links.send(USER, Outgoing("Biểu đồ", photo=chart))
    photo = api.calls_to("sendPhoto")[-1]
    assert photo.ok and photo.params["photo"].endswith("/bieu-do.png")
    assert photo.params["caption"] == "Biểu đồ"


async def test_channel_counts_each_message_sent(bot):
    api, client = bot
    counted: list[int] = []
    channel = ZaloBotChannel(client, count=counted.append)
    await channel.send(USER, Outgoing("ư" * 2500))
    assert counted == [1, 1]
    await asyncio.sleep(0)


async def test_a_send_that_timed_out_after_leaving_is_maybe_delivered():
    import socket
    import threading

    from core.channel import MaybeDelivered

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    held: list[socket.socket] = []

    def accept() -> None:  # reads the request, never answers
        conn, _ = server.accept()
        conn.recv(65536)
        held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    client = ZaloBotClient("1:x", f"http://127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(MaybeDelivered) as caught:
        await client.send_message(USER, "Nhắc việc")
    # the delivery worker marks a MaybeDelivered row uncertain and never resends it
    assert isinstance(caught.value, MaybeDelivered)
    await client.aclose()
    for conn in held:
        conn.close()
    server.close()
