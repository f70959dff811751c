"""Delivery worker against an in-memory channel: results recorded, faults handled, order kept."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlmodel import Session, select

from core.calendar import WorkCalendar
from core.channel import (
    Blocked,
    ChatMigrated,
    ChatNotFound,
    MaybeDelivered,
    RetryAfter,
    TransientError,
)
from core.clock import FixedClock
from core.outgoing import Button, Outgoing
from core.text_parts import utf16_len
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.tables.shared import Outbox
from tests.support.scheduling import MemoryChannel, add_contact, contact, vn

MONDAY = date(2024, 7, 1)


def worker(engine, channel, clock, **config):
    cfg = DeliveryConfig(backoff_base=1.0, **config)
    return DeliveryWorker(engine, {"telegram": channel}, clock, lambda: WorkCalendar.of(), cfg)


def put(engine, key, chat_id, text="Xin chào", kind="reply", contact_id=None, **extra):
    with transaction(engine) as session:
        row = outbox_repo.enqueue(
            session,
            OutboxItem(
                key=key,
                channel="telegram",
                chat_id=chat_id,
                message=Outgoing(text=text, **extra),
                contact_id=contact_id,
                kind=kind,
            ),
            now=vn(MONDAY, 8),
        )
        return row.id if row else None


def row(engine, row_id) -> Outbox:
    with Session(engine) as session:
        found = session.get(Outbox, row_id)
        assert found is not None
        return found


async def test_sends_once_and_records_message_id(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel()
    first = put(empty_engine, "k1", "100")
    assert put(empty_engine, "k1", "100") is None  # same key: nothing new
    await worker(empty_engine, channel, clock).run_once()
    await worker(empty_engine, channel, clock).run_once()
    assert channel.to("100") == ["Xin chào"]
    sent = row(empty_engine, first)
    assert (sent.status, sent.message_id, sent.attempts) == ("sent", channel.sent[0].message_id, 1)


async def test_long_text_is_split_at_line_boundaries_buttons_on_last_part(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel()
    lines = [f"Dòng {i}: Ủy ban nhân dân xã báo cáo tiến độ nhiệm vụ 😀" for i in range(300)]
    text = "\n".join(lines)
    button = Button("Báo cáo ngay", "b:x")
    put(empty_engine, "long", "100", text=text, buttons=[[button]])
    await worker(empty_engine, channel, clock).run_once()
    parts = channel.sent
    assert len(parts) > 1
    assert all(utf16_len(p.message.text) <= 4096 for p in parts)
    assert "\n".join(p.message.text for p in parts) == text  # nothing lost, cut between lines
    assert [bool(p.message.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]


async def test_split_message_resumes_after_parts_already_sent(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel()
    text = "\n".join("x" * 100 for _ in range(100))  # ~10,100 chars: three parts
    row_id = put(empty_engine, "long", "100", text=text)
    calls = {"n": 0}

    def fail_second(chat_id, message):
        calls["n"] += 1
        if calls["n"] == 2:
            raise TransientError("502 Bad Gateway")

    channel.on_send = fail_second
    w = worker(empty_engine, channel, clock)
    await w.run_once()
    assert row(empty_engine, row_id).parts_sent == 1
    clock.advance(timedelta(minutes=5))
    await w.run_once()
    assert "\n".join(d.message.text for d in channel.sent) == text  # part 1 not repeated
    assert row(empty_engine, row_id).status == "sent"


async def test_transient_errors_retry_with_backoff_then_give_up(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel(
        faults={"100": [TransientError("500")] * 2, "200": [TransientError("500")] * 10}
    )
    ok = put(empty_engine, "a", "100")
    doomed = put(empty_engine, "b", "200")
    w = worker(empty_engine, channel, clock, max_attempts=3)
    for _ in range(6):
        await w.run_once()
        clock.advance(timedelta(minutes=1))
    assert channel.to("100") == ["Xin chào"]
    assert row(empty_engine, ok).attempts == 3
    failed = row(empty_engine, doomed)
    assert failed.status == "failed" and failed.error.startswith("transient: gave up after 3")
    assert channel.to("200") == []


async def test_backoff_waits_before_the_retry(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel(faults={"100": [TransientError("503")]})
    row_id = put(empty_engine, "a", "100")
    w = worker(empty_engine, channel, clock)
    await w.run_once()
    await w.run_once()  # same instant: the retry is not due yet
    pending = row(empty_engine, row_id)
    assert pending.status == "pending" and pending.not_before > clock.now()
    clock.set(pending.not_before)
    await w.run_once()
    assert row(empty_engine, row_id).status == "sent"


async def test_retry_after_is_honoured_and_not_counted(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel(faults={"100": [RetryAfter(0.2)]})
    row_id = put(empty_engine, "a", "100")
    w = worker(empty_engine, channel, clock)
    await w.run_once()
    waiting = row(empty_engine, row_id)
    assert waiting.status == "pending"
    assert waiting.not_before == clock.now() + timedelta(seconds=0.2)
    assert waiting.attempts == 0
    clock.advance(timedelta(seconds=1))
    await w.run_once()
    assert channel.to("100") == ["Xin chào"]


async def test_blocked_contact_goes_inactive_and_coordinators_are_told(engine):
    clock = FixedClock(vn(MONDAY))
    focal = add_contact(engine, "focal", "STP", "501", name="Chị Lan")
    coordinator = add_contact(engine, "coordinator", "SNV", "900")
    channel = MemoryChannel(faults={"501": [Blocked("403")]})
    row_id = put(engine, "r1", "501", kind="reminder", contact_id=focal)
    w = worker(engine, channel, clock)
    await w.run_once()
    assert row(engine, row_id).error.startswith("blocked")
    assert contact(engine, focal).active is False
    await w.run_once()
    notice = channel.to("900")
    assert len(notice) == 1 and "Chị Lan" in notice[0] and "Sở Tư pháp" in notice[0]
    assert contact(engine, coordinator).active is True


async def test_chat_migrated_moves_contact_and_delivers_once(engine):
    clock = FixedClock(vn(MONDAY))
    group = add_contact(engine, "focal", "STC", "-100")
    channel = MemoryChannel(faults={"-100": [ChatMigrated("-100999")]})
    row_id = put(engine, "g1", "-100", contact_id=group)
    later = put(engine, "g2", "-100", text="Tin thứ hai", contact_id=group)
    await worker(engine, channel, clock).run_once()
    assert channel.to("-100999") == ["Xin chào", "Tin thứ hai"]
    assert channel.to("-100") == []
    assert contact(engine, group).chat_id == "-100999"
    assert row(engine, row_id).chat_id == "-100999" and row(engine, later).status == "sent"


async def test_chat_not_found_and_rejections_fail_with_reason(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel(faults={"7": [ChatNotFound("400")]})
    row_id = put(empty_engine, "a", "7")
    await worker(empty_engine, channel, clock).run_once()
    failed = row(empty_engine, row_id)
    assert failed.status == "failed" and failed.error.startswith("chat_not_found")


async def test_read_timeout_is_uncertain_and_never_repeated(empty_engine):
    clock = FixedClock(vn(MONDAY))
    timeout = MaybeDelivered("timed out")  # the adapter's verdict on a read timeout
    channel = MemoryChannel(faults={"100": [timeout]})
    row_id = put(empty_engine, "a", "100")
    w = worker(empty_engine, channel, clock)
    await w.run_once()
    clock.advance(timedelta(hours=1))
    await w.run_once()
    failed = row(empty_engine, row_id)
    assert failed.status == "failed" and failed.error.startswith("uncertain")
    assert channel.sent == []


async def test_scheduled_kinds_wait_for_office_hours_replies_do_not(empty_engine):
    saturday_night = vn(date(2024, 7, 6), 21, 0)
    clock = FixedClock(saturday_night)
    channel = MemoryChannel()
    reminder = put(empty_engine, "rem", "100", text="Nhắc", kind="reminder")
    put(empty_engine, "rep", "100", text="Trả lời", kind="reply")
    w = worker(empty_engine, channel, clock)
    await w.run_once()
    assert channel.to("100") == ["Trả lời"]
    clock.set(vn(date(2024, 7, 8), 7, 29))  # Monday, one minute early
    await w.run_once()
    assert row(empty_engine, reminder).status == "pending"
    clock.set(vn(date(2024, 7, 8), 7, 30))
    await w.run_once()
    assert channel.to("100") == ["Trả lời", "Nhắc"]


async def test_rows_left_sending_by_a_crash_are_marked_uncertain_not_resent(empty_engine):
    clock = FixedClock(vn(MONDAY))
    row_id = put(empty_engine, "a", "100")
    assert outbox_repo.claim(empty_engine, row_id, clock.now())  # then "crash"
    channel = MemoryChannel()
    w = worker(empty_engine, channel, clock)
    assert w.recover() == 1
    await w.run_once()
    assert channel.sent == []
    assert row(empty_engine, row_id).error.startswith("uncertain")


async def test_irrelevant_rows_are_cancelled_before_sending(empty_engine):
    clock = FixedClock(vn(MONDAY))
    channel = MemoryChannel()
    row_id = put(empty_engine, "rem", "100", kind="reminder")
    w = DeliveryWorker(
        empty_engine,
        {"telegram": channel},
        clock,
        lambda: WorkCalendar.of(),
        relevance={"reminder": lambda session, outbox, today: "reported: already in"},
    )
    await w.run_once()
    assert channel.sent == []
    cancelled = row(empty_engine, row_id)
    assert (cancelled.status, cancelled.error) == ("cancelled", "reported: already in")


def test_claim_is_exclusive(any_empty_engine):
    clock = FixedClock(vn(MONDAY))
    row_id = put(any_empty_engine, "a", "100")
    assert outbox_repo.claim(any_empty_engine, row_id, clock.now())
    assert not outbox_repo.claim(any_empty_engine, row_id, clock.now())
    with Session(any_empty_engine) as session:
        claimed = session.exec(select(Outbox)).one()
    assert (claimed.status, claimed.attempts) == ("sending", 1)


async def test_parts_of_long_messages_each_take_a_place_in_a_low_rate_window_and_free_it(
    empty_engine,
):
    """A channel of 5 messages a second, three messages of three parts each: every part is one
    message to the platform's count (the parts after the first once went out unpaced), and
    each frees its place a second after it was answered (one that never freed it would stall
    the channel for half a minute)."""
    from dataclasses import replace

    from core.channel import ChannelLimits

    clock = FixedClock(vn(MONDAY))
    channel = replace(MemoryChannel(), limits=ChannelLimits(per_second=5, per_chat_per_second=100))
    stamps: list[float] = []
    channel.on_send = lambda chat_id, message: stamps.append(time.monotonic())
    text = "\n".join("x" * 100 for _ in range(100))  # three parts of 4,096 at most
    for n in range(3):
        put(empty_engine, f"long{n}", str(100 + n), text=text)
    started = time.monotonic()
    await worker(empty_engine, channel, clock).run_once()
    assert len(stamps) == 9
    assert all(sum(1 for t in stamps if s <= t < s + 1.0) <= 5 for s in stamps)
    assert time.monotonic() - started < 15  # a stuck place would hold it ≥ 30 s
