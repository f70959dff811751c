"""`python -m bot.channels.zalo_bot`: the bot on the Zalo Bot Platform alone, until `parbot run`
starts several channels in one process (the seam helper's composition root).

Same start-up as `parbot run`: schema upgraded, the shipped plan loaded into an empty database,
background jobs (reminders, outbox delivery through this channel) running beside polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from bot.app import configure_logging, engine_from_settings
from bot.channels.zalo_bot.service import ZaloBotService
from bot.runtime import build_runtime, prepare_database, start_background, stop_background
from bot.settings import Settings
from messages.render import render


async def serve(settings: Settings) -> int:
    engine = engine_from_settings(settings)
    prepare_database(settings, engine, seed_if_empty=True)
    runtime = build_runtime(settings, engine)
    service = ZaloBotService(runtime)
    runtime.channels["zalo"] = service.channel
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tasks = start_background(runtime)
    try:
        await service.run(stop)
    finally:
        await stop_background(tasks)
    return 0


def main() -> int:
    settings = Settings()
    if settings.zalo_bot_token is None:
        print(render("zalo/run_no_token.j2"), file=sys.stderr)
        return 2
    configure_logging(settings)
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    raise SystemExit(main())
