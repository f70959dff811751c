"""Keeping under a platform's rate limits before it has to tell us (429).

Telegram counts messages in sliding windows: 30 per second overall, 1 per second per private
chat, 20 per minute per group. A leaky bucket with a burst of 30 can still put 31 messages in
one sliding second, so each limiter here is a bucket of capacity one — a minimum spacing —
run slightly under the limit (`SAFETY`) so that network jitter between our clock and the
platform's cannot push two messages into the same window.
"""

from __future__ import annotations

import asyncio

from aiolimiter import AsyncLimiter

from core.channel import ChannelLimits

SAFETY = 0.97  # fraction of the published limit we aim at
_PRUNE_AT = 5000  # per-chat limiters kept before idle ones are dropped


def is_group_chat(chat_id: str) -> bool:
    """Telegram group and supergroup ids are negative; private chats are positive."""
    return chat_id.startswith("-")


class Pacer:
    """Spacing for one channel: overall, per private chat, per group, plus 429 pauses."""

    def __init__(self, limits: ChannelLimits, safety: float = SAFETY) -> None:
        self.limits = limits
        self.safety = safety
        self._overall = AsyncLimiter(1, 1.0 / (limits.per_second * safety))
        self._chats: dict[str, AsyncLimiter] = {}
        self._resume_at = 0.0

    def _chat_limiter(self, chat_id: str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {k: v for k, v in self._chats.items() if not v.has_capacity()}
            if is_group_chat(chat_id):
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

    async def acquire(self, chat_id: str) -> None:
        """Wait until one more message to `chat_id` fits every limit."""
        await self._chat_limiter(chat_id).acquire()
        await self._wait_pause()
        await self._overall.acquire()
        await self._wait_pause()
