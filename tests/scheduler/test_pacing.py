"""The overall window as a platform sees it: stamped anywhere between our write and its answer."""

from __future__ import annotations

import asyncio

from core.channel import ChannelLimits
from scheduler.pacing import Pacer, overall_window


def busiest_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps[i:] if t < start + 1.0) for i, start in enumerate(stamps))


async def test_a_low_rate_never_exceeds_itself_in_the_platforms_second_whatever_the_network():
    """A request that is slow on the way and stamped at the end of its 80 ms trip, followed by
    quick ones stamped at once: the platform still never counts more than its 6 a second,
    because a send leaves our window only a second after its answer came back."""
    rate, sends = 6, 14
    pacer = Pacer(ChannelLimits(per_second=rate, per_chat_per_second=100, group_per_minute=100))
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def send(n: int) -> None:
        slot = await pacer.acquire(f"chat{n}")
        pacer.written(slot)
        if n % (2 * rate) == 0:  # slow on the way in: the platform stamps it late
            await asyncio.sleep(0.08)
        stamps.append(loop.time())
        pacer.answered(slot)

    await asyncio.gather(*(send(n) for n in range(sends)))
    assert len(stamps) == sends
    assert busiest_second(stamps) <= rate


def test_telegram_keeps_its_29_a_second_and_a_low_rate_its_full_count_spaced_evenly():
    telegram = overall_window(30)
    assert (telegram.limit, telegram.until_answered) == (29, False)
    zalo = overall_window(10)
    assert (zalo.limit, zalo.until_answered) == (10, True)
    assert abs(1 / zalo.min_gap - 9.7) < 1e-9  # 97 % of the rate, evenly spaced
