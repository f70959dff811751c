"""Keeping under a platform's rate limits before it has to tell us (429).

One `Pacer` per channel, built from that channel's `ChannelLimits` and its own rule for which
chats are groups, so a Zalo audience never slows a Telegram one and vice versa.

Telegram counts messages in sliding windows: 30 per second overall, 1 per second per private
chat, 20 per minute per group. Per chat: aiolimiter buckets of capacity one, i.e. a minimum
spacing, which is exactly that limit.

Overall (`overall_window`): the full published count in any window, sends spaced evenly at
97 % of the rate, and each send kept in the window until one second after its *answer* came
back. The platform stamps a request somewhere between our writing it and its answer, so if
send k+R is written at least a second after send k was answered, the platform never counts
more than R in any second, whatever the network did in between. A window counted from our
writes only (29 of Telegram's 30, the last landing's rule) is safe only while the network's
jitter stays under one spacing (34 ms): a platform that took in one request late and the next
ones at once saw 30 in a second — one 429 in three runs of the scale-out bench on a busy
machine. The price of the rule is the round trip: R sends per (1 s + round trip), i.e. the
97 % spacing decides on a near network and the window on a far one (at 100 ms, 27 a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from core.channel import ChannelLimits

SAFETY = 0.97  # fraction of the published limit we aim at
_PRUNE_AT = 5000  # per-chat limiters kept before idle ones are dropped


def never_group(chat_id: str) -> bool:
    """For a channel without group chats."""
    return False


#: A send whose answer never comes back (its task died) stops counting after this long.
_IN_FLIGHT_CAP = 30.0


@dataclass
class Slot:
    """One send's place in the window: `at` moves to when its request was really written,
    `answered` is set when its answer came back, and it counts until a period after that."""

    at: float
    answered: float | None = None


class SlidingWindow:
    """At most `limit` sends in any `period` seconds as the platform counts them, spaced
    `min_gap` apart on a schedule.

    aiolimiter's leaky bucket either allows a burst (and then up to twice its rate in one
    sliding window) or, with capacity one, loses for good every millisecond a send starts
    late. Here sends keep to a schedule a `min_gap` apart: one let go late (the event loop was
    busy, the claim's commit was slow) moves the schedule only by what it lost beyond one gap,
    so the next one may follow sooner and a second still holds its share (the last landing
    counted each gap from the previous send and lost ~0.7 ms a gap: 28.3 instead of 29.1 a
    second). The last `limit` sends are kept until a period after their answers, so no
    platform window ever holds more than `limit` (the module docstring says why).
    """

    def __init__(self, limit: int, min_gap: float, period: float = 1.0) -> None:
        self.limit, self.period, self.min_gap = max(1, limit), period, min_gap
        self._slots: deque[Slot] = deque()
        self._due = float("-inf")  # when the schedule lets the next send go
        self._lock = asyncio.Lock()  # waiters are served in order

    def _end(self, slot: Slot, now: float) -> float:
        """When `slot` stops counting: a period after its answer."""
        if slot.answered is None:  # still in flight: it counts until its answer comes
            return slot.at + _IN_FLIGHT_CAP if now - slot.at >= _IN_FLIGHT_CAP else now + 0.01
        return max(slot.at, slot.answered) + self.period

    async def acquire(self) -> Slot:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                self._slots = deque(s for s in self._slots if self._end(s, now) > now)
                wait = self._due - now
                if len(self._slots) >= self.limit:
                    wait = max(wait, min(self._end(s, now) for s in self._slots) - now)
                if wait <= 0:
                    slot = Slot(now)
                    self._slots.append(slot)
                    # late by less than a gap: the next keeps the schedule; after a pause
                    # (idle, a stall) a new schedule starts a gap from now, no burst
                    late = now - self._due
                    self._due = (self._due if late < self.min_gap else now) + self.min_gap
                    return slot
                await asyncio.sleep(wait)


def overall_window(per_second: float, safety: float = SAFETY) -> SlidingWindow:
    """The overall limit as the module docstring says: the full count, until the answer."""
    return SlidingWindow(max(1, math.floor(per_second)), min_gap=1.0 / (per_second * safety))


class Pacer:
    """Spacing for one channel: overall, per private chat, per group, plus 429 pauses."""

    def __init__(
        self,
        limits: ChannelLimits,
        safety: float = SAFETY,
        is_group: Callable[[str], bool] = never_group,
    ) -> None:
        self.limits = limits
        self.is_group = is_group  # the channel's own rule (Channel.is_group)
        self.safety = safety
        self._overall = overall_window(limits.per_second, safety)
        self._chats: dict[str, AsyncLimiter] = {}
        self._resume_at = 0.0

    def _chat_limiter(self, chat_id: str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {k: v for k, v in self._chats.items() if not v.has_capacity()}
            if self.is_group(chat_id):
                period = 60.0 / (self.limits.group_per_minute * self.safety)
            else:
                period = 1.0 / (self.limits.per_chat_per_second * self.safety)
            limiter = self._chats[chat_id] = AsyncLimiter(1, period)
        return limiter

    def pause(self, seconds: float) -> None:
        """The platform said "retry after": nobody on this channel sends until then."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)

    async def _wait_pause(self) -> None:
        loop = asyncio.get_running_loop()
        while (delay := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(delay)

    async def acquire(self, chat_id: str) -> Slot:
        """Wait until one more message to `chat_id` fits every limit."""
        await self._chat_limiter(chat_id).acquire()
        await self._wait_pause()
        slot = await self._overall.acquire()
        await self._wait_pause()
        return slot

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[Slot]:
        """One request to `chat_id` made inside the block, counted from its start to a period
        after the block ends (its answer)."""
        slot = await self.acquire(chat_id)
        self.written(slot)
        try:
            yield slot
        finally:
            self.answered(slot)

    async def acquire_chat(self, chat_id: str) -> None:
        """The per-chat half of `acquire`: `chat_id`'s spacing, and any 429 pause."""
        await self._chat_limiter(chat_id).acquire()
        await self._wait_pause()

    def paused(self) -> bool:
        return self._resume_at > asyncio.get_running_loop().time()

    async def wait_pause(self) -> None:
        await self._wait_pause()

    async def acquire_window(self) -> Slot | None:
        """The overall half of `acquire`, for a caller that has done `acquire_chat` and wants
        the slot as close as it can to the request (scheduler/delivery.py takes it after the
        row's claim has committed, so the commit's time does not widen the window). None when
        a 429 pause is on: the caller gives its turn back rather than wait holding it."""
        if self.paused():
            return None
        slot = await self._overall.acquire()
        if self.paused():
            self.answered(slot)  # never written: it counts no longer than a sent one
            return None
        return slot

    def written(self, slot: Slot) -> None:
        """The request of `slot` left just now: count it from now on."""
        slot.at = max(slot.at, asyncio.get_running_loop().time())

    def answered(self, slot: Slot, at: float | None = None) -> None:
        """The answer to `slot`'s request came back (at `at` on the loop's clock, when the HTTP
        client told; else now, when the send ended): it counts a period from then."""
        now = asyncio.get_running_loop().time()
        slot.answered = now if at is None else min(max(at, slot.at), now)

    async def recall(self, sends: list[tuple[str, float]]) -> None:
        """Count sends another worker started `seconds` ago (chat, seconds), oldest first.

        A worker taking over a channel's send budget (scheduler/send_lease.py) starts with the
        platform's windows as the previous holder left them, not empty: its recent starts fill
        the overall window, and a chat it wrote to within its spacing waits a full spacing.
        """
        now = asyncio.get_running_loop().time()
        window = self._overall
        # answered when started: a recalled send counts for a period from its start
        recalled = [
            Slot(now - ago, answered=now - ago) for _, ago in sends if 0 <= ago < window.period
        ]
        window._slots = deque(sorted([*window._slots, *recalled], key=lambda s: s.at))
        for chat_id, ago in sends:
            limiter = self._chat_limiter(chat_id)
            if ago < limiter.time_period and limiter.has_capacity():
                await limiter.acquire()
