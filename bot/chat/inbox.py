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
            for _ in range(100):  # bounded: a chat another process holds stays pending
                chats = await asyncio.to_thread(repo.pending_chats, self.engine, 100)
                chats = [c for c in chats if c[0] in self._processors]
                if not chats:
                    break
                for channel, chat_key in chats:
                    await self._drain_claimed(channel, chat_key)
                    done += 1
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
                while await self._drain_claimed(channel, chat_key) and self._running:
                    pass  # an update arrived while the claim was being released: once more
        except Exception:
            log.exception("inbox drain failed channel=%s", channel)
        finally:
            self._active.discard((channel, chat_key))

    async def _drain_claimed(self, channel: str, chat_key: str) -> bool:
        """Work through the chat under its claim. True when, once released, the chat has
        pending updates again (one arrived meanwhile and its receiver's nudge found the claim
        taken); False when another process had the claim or this one is stopping.

        Each hop to a worker thread does one whole step (claim and read; mark done and read
        on; release and look again): hops cost more than the statements.
        """
        stack = contextlib.ExitStack()
        rows = await asyncio.to_thread(self._open, stack, channel, chat_key)
        if rows is None:
            return False
        finished = False
        try:
            finished = await self._work_through(channel, chat_key, rows)
        finally:
            again = await asyncio.to_thread(self._close, stack, channel, chat_key)
        return finished and again

    async def _work_through(self, channel: str, chat_key: str, rows: list[repo.Pending]) -> bool:
        while rows:
            following: list[repo.Pending] = []
            for index, row in enumerate(rows):
                processor = self._processors.get(channel)
                if processor is None or not (self._running or self._draining):
                    return False  # the rest stays pending for whichever process runs next
                error = await self._process(processor, channel, row)
                last = index == len(rows) - 1
                following = await asyncio.to_thread(
                    self._done, row.id, error, channel, chat_key, last
                )
            rows = following
        return True

    def _open(
        self, stack: contextlib.ExitStack, channel: str, chat_key: str
    ) -> list[repo.Pending] | None:
        if not stack.enter_context(repo.chat_claim(self.engine, channel, chat_key)):
            stack.close()
            return None
        return repo.pending_of(self.engine, channel, chat_key)

    def _done(
        self, row_id: int, error: str | None, channel: str, chat_key: str, read_on: bool
    ) -> list[repo.Pending]:
        repo.mark_done(self.engine, row_id, self.clock.now(), error)
        return repo.pending_of(self.engine, channel, chat_key) if read_on else []

    def _close(self, stack: contextlib.ExitStack, channel: str, chat_key: str) -> bool:
        stack.close()
        return bool(repo.pending_of(self.engine, channel, chat_key, 1))

    async def _process(self, processor: Processor, channel: str, row: repo.Pending) -> str | None:
        """Run the processor; the error to record, if it raised (never retried in a loop: a
        poisoned update must not stall its chat; the user can send again)."""
        try:
            await processor(json.loads(row.payload))
        except Exception as exc:
            log.exception("inbox update failed channel=%s id=%s", channel, row.id)
            return f"error: {type(exc).__name__}"
        return None
