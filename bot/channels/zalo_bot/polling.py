"""Long polling of the Zalo Bot Platform: one update per getUpdates, no offset, 408 = none.

At-most-once by design of the API: a message that arrives while nothing polls is lost, which
is why README recommends the webhook for production. Network errors and 5xx back off (1 s
doubling to 30 s); a refused token (401) stops the loop after telling the admins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.channels.zalo_bot.adapter import ZaloBotAdapter
from bot.channels.zalo_bot.client import InvalidToken, NothingNew, ZaloBotClient
from core.channel import DeliveryError, RetryAfter

log = logging.getLogger("parbot.zalo")
MAX_BACKOFF = 30.0


async def poll(
    client: ZaloBotClient,
    adapter: ZaloBotAdapter,
    stop: asyncio.Event,
    *,
    timeout: int = 30,
    on_invalid_token: Callable[[], None] | None = None,
) -> None:
    await client.delete_webhook()  # getUpdates and the webhook are mutually exclusive [A]
    backoff = 1.0
    while not stop.is_set():
        try:
            update = await client.get_update(timeout)
        except NothingNew:
            backoff = 1.0
            continue
        except InvalidToken:
            log.error("zalo bot token refused: polling stopped")
            if on_invalid_token is not None:
                await asyncio.to_thread(on_invalid_token)
            return
        except RetryAfter as exc:
            await _pause(stop, exc.seconds)
            continue
        except DeliveryError as exc:
            log.warning(
                "zalo getUpdates failed error=%s backoff=%.0fs", type(exc).__name__, backoff
            )
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        try:
            await adapter.handle(update)
        except Exception:
            log.exception("zalo update failed")


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
