"""The inbox runner: an update is committed before `accept` returns (the webhook's 200), a
re-delivery is a no-op, and two processes racing on one chat keep its order."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from sqlalchemy import text

from bot.chat.inbox import Inbox
from storage import inbox as repo
from storage.db import make_engine


async def wait_until(check, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_accepted_update_is_committed_before_the_answer_and_processed_once(any_engine):
    seen: list[int] = []
    box = Inbox(any_engine, poll=0.1)

    async def process(update: dict) -> None:
        seen.append(update["n"])

    # nobody processes yet: what `accept` returned for must be in the table, committed
    assert await box.accept("telegram", "1", "chat-1", json.dumps({"n": 1}), seq=1)
    with any_engine.connect() as other:
        rows = other.execute(text("SELECT update_key FROM inbox_update")).scalars().all()
    assert rows == ["1"]
    assert not await box.accept("telegram", "1", "chat-1", json.dumps({"n": 1}), seq=1)
    box.register("telegram", process)
    async with box.running():
        await box.accept("telegram", "2", "chat-1", json.dumps({"n": 2}), seq=2)
        await wait_until(lambda: len(seen) == 2)
        assert not await box.accept("telegram", "2", "chat-1", json.dumps({"n": 2}), seq=2)
        await asyncio.sleep(0.3)
    assert seen == [1, 2]
    assert repo.counts(any_engine) == {"pending": 0, "processed": 2}


@pytest.mark.parametrize("any_engine", ["postgres"], indirect=True)
async def test_two_workers_racing_on_one_chat_keep_its_order(any_engine):
    """Two runners with their own connection pools (as two processes have) receive one chat's
    updates alternately; each update is processed once, strictly in update order, while a
    second chat goes on in parallel."""
    url = any_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url), make_engine(url)]
    order: dict[str, list[int]] = {"a": [], "b": []}
    by_worker = [0, 0]
    busy: set[str] = set()

    def processor(worker: int):
        async def process(update: dict) -> None:
            chat = update["chat"]
            assert chat not in busy, "two workers inside one chat at once"
            busy.add(chat)
            await asyncio.sleep(random.uniform(0, 0.01))
            order[chat].append(update["n"])
            by_worker[worker] += 1
            busy.discard(chat)

        return process

    boxes = [Inbox(engine, poll=0.2) for engine in engines]
    for worker, box in enumerate(boxes):
        box.register("telegram", processor(worker))
    count = 40
    try:
        async with boxes[0].running(), boxes[1].running():
            for n in range(1, count + 1):
                for chat in ("a", "b"):
                    payload = json.dumps({"n": n, "chat": chat})
                    receiver = boxes[(n + (chat == "b")) % 2]
                    await receiver.accept("telegram", f"{chat}{n}", chat, payload, seq=n)
            await wait_until(lambda: len(order["a"]) + len(order["b"]) == 2 * count)
            await asyncio.sleep(0.5)  # nothing processed twice afterwards either
    finally:
        for engine in engines:
            engine.dispose()
    assert order["a"] == list(range(1, count + 1))
    assert order["b"] == list(range(1, count + 1))
    assert min(by_worker) > 0, f"one worker did everything: {by_worker}"
    assert repo.counts(any_engine) == {"pending": 0, "processed": 2 * count}
