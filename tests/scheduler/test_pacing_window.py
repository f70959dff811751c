"""The overall window keeps a low configured rate (Zalo's) within a few percent, evenly spaced,
and leaves Telegram's 30/s window as it was."""

import asyncio

from scheduler.pacing import SAFETY, overall_window


def test_telegram_rate_keeps_a_one_second_window_of_29():
    window = overall_window(30 * SAFETY)
    assert (window.limit, window.period) == (29, 1.0)


def test_low_rates_lose_less_than_five_percent_to_rounding():
    for rate in (1, 2, 5, 6, 10, 15, 20):
        window = overall_window(rate * SAFETY)
        assert window.limit / window.period >= 0.95 * rate, rate
        assert window.limit / window.period <= rate


async def test_a_low_rate_is_spaced_evenly_without_bursts():
    window = overall_window(10 * SAFETY)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(12):
        await window.acquire()
        times.append(loop.time())
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= window.period / window.limit * 0.9  # never faster than the rate
