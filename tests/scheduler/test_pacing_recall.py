"""A worker taking a channel over counts the previous holder's recent sends (Pacer.recall):
the overall window starts as full as the platform sees it, a chat written to just now waits
its spacing, and a 429 pause makes the window refuse instead of waiting."""

from __future__ import annotations

import asyncio

from core.channel import ChannelLimits
from scheduler.pacing import Pacer

LIMITS = ChannelLimits(per_second=30, per_chat_per_second=10, group_per_minute=600)


def is_group(chat_id: str) -> bool:
    return chat_id.startswith("-")


async def elapsed(awaitable) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await awaitable
    return loop.time() - start


async def test_recalled_sends_fill_the_window_until_they_age_out():
    pacer = Pacer(LIMITS, is_group=is_group)
    # 30 sends (the window's limit), the oldest answered 0.85 s ago
    await pacer.recall([(str(100 + n), 0.85 - n * 0.01) for n in range(30)])
    waited = await elapsed(pacer.acquire_window())
    assert 0.12 <= waited < 0.5  # until the oldest is a second old, not at once


async def test_a_chat_written_to_by_the_previous_holder_waits_its_spacing():
    pacer = Pacer(LIMITS, is_group=is_group)
    await pacer.recall([("-100777", 0.0), ("42", 5.0)])  # a group just now; a chat long ago
    assert await elapsed(pacer.acquire_chat("42")) < 0.05
    group_spacing = 60 / (600 * 0.97)
    assert await elapsed(pacer.acquire_chat("-100777")) >= group_spacing * 0.9


async def test_during_a_429_pause_the_window_refuses_rather_than_waits():
    pacer = Pacer(LIMITS, is_group=is_group)
    pacer.pause(0.3)
    assert pacer.paused() and await pacer.acquire_window() is None
    assert await elapsed(pacer.wait_pause()) >= 0.25
    assert await pacer.acquire_window() is not None
