"""Keeping under a platform's rate limits before it has to tell us (429).

One `Pacer` per channel, built from that channel's `ChannelLimits` and its own rule for which
chats are groups, so a Zalo audience never slows a Telegram one and vice versa.

Telegram counts messages in sliding windows: 30 per second overall, 1 per second per private
chat, 20 per minute per group. Overall: at most 29 starts in any sliding second (`SAFETY`
leaves room for network jitter between our clock and the platform's). Per chat: aiolimiter
buckets of capacity one, i.e. a minimum spacing, which is exactly that limit.

A low rate (a Zalo channel's few per second) would lose most of its margin to rounding: 97 %
of 10/s is 9.7, and a whole number of sends per second makes it 9 (90 %). Such a window
(`overall_window`) holds the full published count instead, spaces sends evenly at 97 % of the
rate, and keeps each send in the window until one second after its *answer* came back. The
platform stamps a request somewhere between our writing it and its answer, so if send k+R is
written at least a second after send k was answered, the platform never counts more than R in
any second, whatever the network did in between.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from core.channel import ChannelLimits

SAFETY = 0.97  # fraction of the published limit we aim at
CATCH_UP = 1.5  # after a stall, sends go at most this much faster than the limit
_PRUNE_AT = 5000  # per-chat limiters kept before idle ones are dropped


def never_group(chat_id: str) -> bool:
    """For a channel without group chats."""
    return False


#: A send whose answer never comes back (its task died) stops counting after this long.
_IN_FLIGHT_CAP = 30.0


@dataclass
class Slot:
    """One send's place in the window; `at` moves to when its request was really written and
    `answered` is set when its answer came back (windows that count until the answer)."""

    at: float
    answered: float | None = None
    acquired: float = 0.0  # when the window let it go (`at` before `written` moved it)

    def __post_init__(self) -> None:
        self.acquired = self.acquired or self.at


class SlidingWindow:
    """At most `limit` sends in any `period` seconds, counted the way Telegram counts.

    aiolimiter's leaky bucket either allows a burst (and then up to twice its rate in one
    sliding window) or, with capacity one, loses for good every millisecond a send starts
    late. This keeps the times of the last `limit` sends: a late send is made up at once (no
    faster than `min_gap`), and no window ever holds more than `limit`. A slot's time is moved
    to the moment its request was written (`Pacer.written`), so the window we count is the one
    the platform sees, give or take the network.
    """

    def __init__(
        self,
        limit: int,
        period: float = 1.0,
        min_gap: float | None = None,
        until_answered: bool = False,
    ) -> None:
        self.limit, self.period = max(1, limit), period
        self.min_gap = period / (self.limit * CATCH_UP) if min_gap is None else min_gap
        self.until_answered = until_answered
        self._slots: deque[Slot] = deque()
        self._lock = asyncio.Lock()  # waiters are served in order

    def _end(self, slot: Slot, now: float) -> float:
        """When `slot` stops counting: a period after it was written (or answered)."""
        if not self.until_answered:
            return slot.at + self.period
        if slot.answered is None:  # still in flight: it counts until its answer comes
            return slot.at + _IN_FLIGHT_CAP if now - slot.at >= _IN_FLIGHT_CAP else now + 0.01
        return max(slot.at, slot.answered) + self.period

    def _last_start(self) -> float:
        """Where the next send's gap counts from. A window that counts until the answer spaces
        sends by when it let them go: the time each one then spends being claimed and written
        must not add to every gap (that took a 10/s channel to 8/s on a busy machine)."""
        if self.until_answered:
            return max(s.acquired for s in self._slots)
        return max(s.at for s in self._slots)

    async def acquire(self) -> Slot:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                self._slots = deque(s for s in self._slots if self._end(s, now) > now)
                wait = 0.0
                if len(self._slots) >= self.limit:
                    wait = min(self._end(s, now) for s in self._slots) - now
                if self._slots:
                    wait = max(wait, self._last_start() + self.min_gap - now)
                if wait <= 0:
                    slot = Slot(now)
                    self._slots.append(slot)
                    return slot
                await asyncio.sleep(wait)


def overall_window(per_second: float, safety: float = SAFETY) -> SlidingWindow:
    """The overall limit: 97 % of it in whole sends per second, unless rounding loses more than
    the safety margin again (low rates), then the low-rate window of the module docstring."""
    aimed = per_second * safety
    if math.floor(aimed) >= per_second * (2 * safety - 1):
        return SlidingWindow(math.floor(aimed))
    return SlidingWindow(max(1, math.floor(per_second)), min_gap=1.0 / aimed, until_answered=True)


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
        return None if self.paused() else slot

    def written(self, slot: Slot) -> None:
        """The request of `slot` left just now: count it from now on."""
        slot.at = max(slot.at, asyncio.get_running_loop().time())

    def answered(self, slot: Slot) -> None:
        """The answer to `slot`'s request came back (or the send ended): see `overall_window`."""
        slot.answered = asyncio.get_running_loop().time()

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
