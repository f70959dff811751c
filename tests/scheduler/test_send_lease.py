"""Two delivery workers, each with its own engine, bot and pacer, share one database and one
bot: the channel's send budget is leased to one of them at a time (scheduler/send_lease.py).

Against the fake Bot API, which enforces Telegram's limits and counts 429s: a broadcast goes
out once per recipient with no 429 — also across a handover from a worker that stops in the
middle of a full window — and a 429 pause one worker was told about holds the next one back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.calendar import WorkCalendar
from core.clock import SystemClock
from core.outgoing import Outgoing
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from scheduler.send_lease import SendLeases
from storage import outbox as outbox_repo
from storage.db import make_engine, transaction
from storage.outbox import OutboxItem
from storage.tables.sending import SendBudget
from storage.tables.shared import Outbox
from tests.fakes.botapi import FakeBotApi

FIRST_CHAT = 800_000


def broadcast(engine: Engine, count: int, first: int = 0) -> None:
    now = SystemClock().now()
    with transaction(engine) as session:
        outbox_repo.enqueue_many(
            session,
            [
                OutboxItem(
                    key=f"lease:{n}",
                    channel="telegram",
                    chat_id=str(FIRST_CHAT + n),
                    message=Outgoing(f"Thông báo số {n}"),
                    kind="reply",
                )
                for n in range(first, first + count)
            ],
            now,
        )


def second_engine(engine: Engine) -> Engine:
    """Another process's view of the same database: an engine of its own."""
    return make_engine(engine.url.render_as_string(hide_password=False))


class Worker:
    """One delivery worker as a process runs it: engine, bot, pacer, lease, loop."""

    def __init__(self, engine: Engine, api: FakeBotApi) -> None:
        from bot.channels.telegram.delivery import delivery_channel

        self.engine = engine
        channel, self.bot = delivery_channel(api.token, api.base_url, engine)
        config = DeliveryConfig(scheduled_kinds=frozenset(), batch=20, idle_poll=0.2)
        self.worker = DeliveryWorker(
            engine,
            {"telegram": channel},
            SystemClock(),
            lambda: WorkCalendar.of(),
            config,
            leases=SendLeases(engine, ["telegram"]),
        )
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bot.initialize()
        self.task = asyncio.create_task(self.worker.run(self.stop))

    async def finish(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 30)
        await self.bot.shutdown()

    async def kill(self) -> None:
        """Die mid-pass: sends in flight are cut off, the lease goes with the connection."""
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.stop.set()
        assert self.worker.leases is not None
        self.worker.leases.release()
        await self.bot.shutdown()

    @property
    def sending(self) -> bool:
        return "telegram" in self.worker.sending_on


def pending(engine: Engine) -> int:
    with Session(engine) as session:
        counts = outbox_repo.status_counts(session)
    return counts.get("pending", 0) + counts.get("sending", 0)


async def until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def api():
    with FakeBotApi(enforce_limits=True) as server:
        yield server


async def test_two_workers_deliver_a_broadcast_once_with_no_429_across_a_handover(
    any_empty_engine, api, monkeypatch
):
    monkeypatch.setattr("scheduler.delivery.LEASE_POLL", 0.02)  # take over at once
    count = 150
    broadcast(any_empty_engine, count)
    first = Worker(any_empty_engine, api)
    second = Worker(second_engine(any_empty_engine), api)
    await first.start()
    await second.start()
    try:
        await until(lambda: first.sending or second.sending)
        holder, other = (first, second) if first.sending else (second, first)
        assert not other.sending  # one budget, one holder
        # the holder dies while its sliding second is full; the other takes over from there
        await until(lambda: len(api.sent_messages()) >= 60)
        await holder.kill()
        await until(lambda: other.sending, timeout=5)
        await until(lambda: pending(any_empty_engine) == 0, timeout=30)
    finally:
        for worker in (first, second):
            if not worker.stop.is_set():
                await worker.finish()
        other_engine = second.engine
        other_engine.dispose()
    chats = Counter(int(call.chat_id) for call in api.sent_messages())  # type: ignore[arg-type]
    assert api.count_429 == 0
    assert max(chats.values()) == 1  # none twice
    with Session(any_empty_engine) as session:
        rows = session.exec(select(Outbox.chat_id, Outbox.status, Outbox.error)).all()
    sent = {int(chat) for chat, status, _ in rows if status == "sent"}
    uncertain = [chat for chat, status, error in rows if status == "failed"]
    assert all(error.startswith("uncertain") for _, status, error in rows if status == "failed")
    assert len(sent) + len(uncertain) == count  # none lost: sent, or listed as uncertain
    assert sent <= set(chats)  # every row marked sent did arrive
    assert len(uncertain) <= 8  # at most the sends in flight at the kill
    # both really sent: the handover happened in the middle of the broadcast
    by_holder = {w: w.worker.stats.results.sent for w in (first, second)}
    assert all(sent > 0 for sent in by_holder.values()), by_holder


async def test_a_429_pause_told_to_one_worker_holds_back_the_one_taking_over(any_empty_engine, api):
    broadcast(any_empty_engine, 1)
    api.fail_next("sendMessage", times=1, status=429, retry_after=3)
    first = Worker(any_empty_engine, api)
    await first.start()
    try:
        await until(lambda: api.count_429 == 1)
        told = time.time()
        await first.finish()  # stops inside the pause
        broadcast(any_empty_engine, 2, first=1)  # due now: only the pause holds them back
        second = Worker(second_engine(any_empty_engine), api)
        await second.start()
        await until(lambda: pending(any_empty_engine) == 0, timeout=15)
        await second.finish()
        second.engine.dispose()
    finally:
        if not first.stop.is_set():
            await first.finish()
    sends = sorted(call.time for call in api.sent_messages())
    assert len(sends) == 3
    assert sends[0] >= told + 2.5  # the pause reached the next worker through the database
    with Session(any_empty_engine) as session:
        budget = session.get(SendBudget, "telegram")
        assert budget is not None and budget.rate_limited == 1
