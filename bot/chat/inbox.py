"""Working through the durable inbox: every webhook update, once, in order per chat.

A webhook endpoint calls `accept(…)`: the update is committed to the inbox table and only then
does the endpoint answer 2xx (a crash after the answer loses nothing; a re-delivery is a no-op
on the table's unique key). Processing reads the inbox back: the receiving process is nudged
at once, and every process polls for updates nobody took (their receiver died) — so whichever
worker is alive finishes the work.

Order: one chat at a time, in the platform's order (`storage.inbox.chat_claim`: an advisory
lock per chat on PostgreSQL, so two workers never interleave one chat's updates); different
chats run in parallel, up to `concurrency` per process. A channel registers a processor (an
async function of the stored payload); a channel not registered in this process is left for
one that has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from core.clock import Clock, SystemClock
from storage import inbox as repo

log = logging.getLogger("parbot.inbox")

Processor = Callable[[dict[str, Any]], Awaitable[None]]

#: An update nobody started after this long is taken by any worker's poll (its receiver died).
STRANDED_AFTER = timedelta(seconds=2)
KEEP = timedelta(days=2)


class Inbox:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        *,
        concurrency: int = 8,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.poll = poll
        self._processors: dict[str, Processor] = {}
        self._active: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(concurrency)
        self._running = False
        self._draining = False

    def register(self, channel: str, processor: Processor) -> None:
        self._processors[channel] = processor

    def unregister(self, channel: str) -> None:
        self._processors.pop(channel, None)

    async def accept(
        self, channel: str, update_key: str, chat_key: str, payload: str, seq: int = 0
    ) -> bool:
        """Record the update (committed when this returns); False: already recorded."""
        new = await asyncio.to_thread(
            repo.record, self.engine, channel, update_key, chat_key, payload, self.clock.now(), seq
        )
        if not new:
            log.info("inbox: re-delivered update ignored channel=%s key=%s", channel, update_key)
        self.nudge(channel, chat_key)
        return new

    def nudge(self, channel: str, chat_key: str) -> None:
        """Work through the chat now (unless this process already is)."""
        if not self._running or (channel, chat_key) in self._active:
            return
        if channel not in self._processors:
            return
        self._active.add((channel, chat_key))
        task = asyncio.create_task(self._drain(channel, chat_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> int:
        """Process everything pending now, chat after chat, in this task (tests, tools)."""
        self._draining = True
        done = 0
        try:
            while chats := await asyncio.to_thread(repo.pending_chats, self.engine, 100):
                progressed = False
                for channel, chat_key in chats:
                    if channel in self._processors:
                        progressed |= await self._drain_claimed(channel, chat_key)
                        done += 1
                if not progressed:
                    break
        finally:
            self._draining = False
        return done

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Inbox]:
        """Process for the duration of the block (the poll for stranded updates included)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield self
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 15)

    async def run(self, stop: asyncio.Event) -> None:
        self._running = True
        pruned_at = self.clock.now()
        try:
            while not stop.is_set():
                try:
                    await self._poll_once()
                    now = self.clock.now()
                    if now - pruned_at > timedelta(hours=1):
                        pruned_at = now
                        await asyncio.to_thread(repo.prune, self.engine, now - KEEP)
                except Exception:
                    log.exception("inbox poll failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll)
        finally:
            self._running = False
            if self._tasks:  # let the chats in hand finish their current update
                await asyncio.wait(set(self._tasks), timeout=10)

    async def _poll_once(self) -> None:
        before = self.clock.now() - STRANDED_AFTER
        chats = await asyncio.to_thread(repo.pending_chats, self.engine, 100, before)
        for channel, chat_key in chats:
            self.nudge(channel, chat_key)

    async def _drain(self, channel: str, chat_key: str) -> None:
        try:
            async with self._gate:
                while await self._drain_claimed(channel, chat_key):
                    # released; did an update arrive between our last read and the release?
                    # (its receiver's nudge found the claim still taken)
                    left = await asyncio.to_thread(
                        repo.pending_of, self.engine, channel, chat_key, 1
                    )
                    if not left or not self._running:
                        break
        except Exception:
            log.exception("inbox drain failed channel=%s", channel)
        finally:
            self._active.discard((channel, chat_key))

    async def _drain_claimed(self, channel: str, chat_key: str) -> bool:
        """Process the chat's pending updates under its claim; False if another had it."""
        stack = contextlib.ExitStack()
        claim = repo.chat_claim(self.engine, channel, chat_key)
        got = await asyncio.to_thread(stack.enter_context, claim)
        try:
            if not got:
                return False
            while True:
                rows = await asyncio.to_thread(repo.pending_of, self.engine, channel, chat_key)
                if not rows:
                    return True
                for row in rows:
                    # stopping: the rest stays pending for the next process that runs
                    going = self._running or self._draining
                    if not going or not await self._process(channel, row):
                        return False
        finally:
            await asyncio.to_thread(stack.close)

    async def _process(self, channel: str, row: repo.Pending) -> bool:
        processor = self._processors.get(channel)
        if processor is None:  # the channel stopped in this process: leave it to another
            return False
        error: str | None = None
        try:
            await processor(json.loads(row.payload))
        except Exception as exc:  # recorded, never retried in a loop: the user can send again
            log.exception("inbox update failed channel=%s id=%s", channel, row.id)
            error = f"error: {type(exc).__name__}"
        await asyncio.to_thread(repo.mark_done, self.engine, row.id, self.clock.now(), error)
        return True
