"""Delivery faults against the fake Bot API, through the real Telegram channel (PTB + httpx).

Each message is delivered exactly once or marked failed with its reason: 429 with retry_after,
500s, timeouts (answer too late, connection dropped), 403, a group migrated to a supergroup,
a chat that does not exist.
"""

from __future__ import annotations

import time

from sqlmodel import Session, select
from telegram.request import HTTPXRequest

from bot.channels.telegram.channel import TelegramChannel
from core.calendar import WorkCalendar
from core.clock import SystemClock
from core.outgoing import Outgoing
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.tables.shared import Contact, Outbox
from tests.support.scheduling import add_contact

ALWAYS_OPEN = WorkCalendar.of(make_up_days=[])  # replies are not windowed anyway


def channel_for(api, read_timeout: float = 5.0) -> tuple[TelegramChannel, object]:
    bot = api.make_bot(request=HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout))
    return TelegramChannel(bot), bot


def enqueue(engine, chat_id: int, text: str, contact_id: int | None = None) -> int:
    with transaction(engine) as session:
        row = outbox_repo.enqueue(
            session,
            OutboxItem(
                key=f"fault:{chat_id}:{text}",
                channel="telegram",
                chat_id=str(chat_id),
                contact_id=contact_id,
                message=Outgoing(text),
                kind="reply",
            ),
            SystemClock().now(),
        )
        assert row is not None
        return row.id  # type: ignore[return-value]


def outbox(engine, row_id: int) -> Outbox:
    with Session(engine) as session:
        row = session.get(Outbox, row_id)
        assert row is not None
        return row


async def drain(worker: DeliveryWorker, engine, timeout: float = 20.0) -> None:
    """Run passes until nothing is pending (retries included) or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await worker.run_once()
        with Session(engine) as session:
            counts = outbox_repo.status_counts(session)
        if not counts.get("pending") and not counts.get("sending"):
            return
        await _sleep(0.05)
    raise AssertionError(f"outbox not drained: {counts}")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def make_worker(engine, channel) -> DeliveryWorker:
    config = DeliveryConfig(backoff_base=0.05, max_attempts=4, scheduled_kinds=frozenset())
    return DeliveryWorker(engine, {"telegram": channel}, SystemClock(), lambda: ALWAYS_OPEN, config)


def texts(api, chat_id) -> list[str]:
    return [c.text for c in api.sent_messages(chat_id)]


async def test_429_retry_after_is_waited_out_then_delivered_once(fake_api, empty_engine):
    api = fake_api
    row_id = enqueue(empty_engine, 501, "Nhắc hạn")
    api.fail_next("sendMessage", status=429, retry_after=1, chat_id=501)
    channel, bot = channel_for(api)
    async with bot:
        started = time.monotonic()
        await drain(make_worker(empty_engine, channel), empty_engine)
    assert texts(api, 501) == ["Nhắc hạn"]
    assert time.monotonic() - started >= 1.0
    sent = outbox(empty_engine, row_id)
    assert sent.status == "sent" and sent.attempts == 1  # the 429 was not an attempt
    assert api.count_429 == 1


async def test_500s_are_retried_with_backoff_until_delivered_once(fake_api, empty_engine):
    api = fake_api
    row_id = enqueue(empty_engine, 502, "Nhắc hạn")
    api.fail_next("sendMessage", times=2, status=500, chat_id=502)
    channel, bot = channel_for(api)
    async with bot:
        await drain(make_worker(empty_engine, channel), empty_engine)
    assert texts(api, 502) == ["Nhắc hạn"]
    assert outbox(empty_engine, row_id).attempts == 3


async def test_500s_forever_end_failed_with_the_reason(fake_api, empty_engine):
    api = fake_api
    row_id = enqueue(empty_engine, 503, "Nhắc hạn")
    api.fail_next("sendMessage", times=10, status=502, chat_id=503)
    channel, bot = channel_for(api)
    async with bot:
        await drain(make_worker(empty_engine, channel), empty_engine)
    failed = outbox(empty_engine, row_id)
    assert texts(api, 503) == []
    assert failed.status == "failed" and failed.error.startswith("transient: gave up after 4")


async def test_timeouts_deliver_at_most_once_and_say_so(fake_api, empty_engine):
    """A late answer: Telegram got it, we cannot know — recorded uncertain, never repeated."""
    api = fake_api
    late = enqueue(empty_engine, 504, "Trả lời muộn")
    dropped = enqueue(empty_engine, 505, "Kết nối bị ngắt")
    api.fail_next("sendMessage", delay=1.5, chat_id=504)
    api.fail_next("sendMessage", disconnect=True, chat_id=505)
    channel, bot = channel_for(api, read_timeout=0.5)
    async with bot:
        await drain(make_worker(empty_engine, channel), empty_engine)
        time.sleep(1.2)  # let the late request finish on the server
    assert texts(api, 504) == ["Trả lời muộn"]  # delivered once, not twice
    assert texts(api, 505) == []  # never arrived
    for row_id in (late, dropped):
        row = outbox(empty_engine, row_id)
        assert row.status == "failed" and row.error.startswith("uncertain"), row.error


async def test_blocked_user_goes_inactive_coordinator_told_once(fake_api, engine):
    api = fake_api
    focal = add_contact(engine, "focal", "STP", "506", name="Anh Bình")
    add_contact(engine, "coordinator", "SNV", "900")
    first = enqueue(engine, 506, "Nhắc 1", focal)
    second = enqueue(engine, 506, "Nhắc 2", focal)
    api.block_chat(506)
    channel, bot = channel_for(api)
    async with bot:
        await drain(make_worker(engine, channel), engine)
    assert texts(api, 506) == []
    for row_id in (first, second):
        assert outbox(engine, row_id).error.startswith("blocked")
    with Session(engine) as session:
        assert session.get(Contact, focal).active is False
    notices = texts(api, 900)
    assert len(notices) == 1 and "Anh Bình" in notices[0] and "chặn bot" in notices[0]


async def test_group_migrated_to_supergroup_gets_it_once_at_the_new_id(fake_api, engine):
    api = fake_api
    group = add_contact(engine, "focal", "STC", "-100", name="Nhóm Sở Tài chính")
    row_id = enqueue(engine, -100, "Nhắc nhóm", group)
    api.migrate_chat(-100, -1009999)
    channel, bot = channel_for(api)
    async with bot:
        await drain(make_worker(engine, channel), engine)
    assert texts(api, -1009999) == ["Nhắc nhóm"]
    assert texts(api, -100) == []
    with Session(engine) as session:
        assert session.get(Contact, group).chat_id == "-1009999"
    assert outbox(engine, row_id).status == "sent"


async def test_chat_not_found_is_final(fake_api, empty_engine):
    api = fake_api
    row_id = enqueue(empty_engine, 507, "Xin chào")
    api.missing_chat(507)
    channel, bot = channel_for(api)
    async with bot:
        await drain(make_worker(empty_engine, channel), empty_engine)
    assert outbox(empty_engine, row_id).error.startswith("chat_not_found")


async def test_mixed_faults_each_message_once_or_failed_with_reason(fake_api, engine):
    api = fake_api
    chats = list(range(600, 630))
    for chat in chats:
        enqueue(engine, chat, f"Tin {chat}")
    api.fail_next("sendMessage", status=429, retry_after=1, chat_id=600)
    api.fail_next("sendMessage", times=2, status=500, chat_id=601)
    api.fail_next("sendMessage", status=503, chat_id=602)
    api.fail_next("sendMessage", delay=1.2, chat_id=603)
    api.block_chat(604)
    api.missing_chat(605)
    api.migrate_chat(606, -1006060)
    channel, bot = channel_for(api, read_timeout=0.5)
    async with bot:
        await drain(make_worker(engine, channel), engine)
        time.sleep(1.0)
    with Session(engine) as session:
        rows = {int(r.idempotency_key.split(":")[1]): r for r in session.exec(select(Outbox))}
    for chat in chats:
        delivered = len(texts(api, chat)) + (len(texts(api, -1006060)) if chat == 606 else 0)
        row = rows[chat]
        assert delivered <= 1, chat
        if row.status == "sent":
            assert delivered == 1, chat
        else:
            assert row.status == "failed" and row.error, chat
    assert {c for c in chats if rows[c].status == "failed"} == {603, 604, 605}
    assert rows[603].error.startswith("uncertain") and len(texts(api, 603)) == 1
