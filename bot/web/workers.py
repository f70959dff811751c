"""`parbot serve --workers N`: N worker processes on one PostgreSQL database.

uvicorn's process supervisor starts N workers (and starts a new one when one dies); each builds
its whole application with `create()` — the application factory, which goes through the one
composition root (`bot.app.build_app`). Every worker serves the webhooks, the dashboard and
the links, records webhook updates in the durable inbox and works through it (one chat at a
time across all workers), and delivers from the outbox. What must happen once — the
scheduler's jobs, setWebhook, the command menus — runs on the leader (scheduler/leader.py),
and another worker takes over within seconds when it dies.

SQLite cannot be shared by several writing processes, so more than one worker on it is refused
with a clear message; `--workers 1` on SQLite runs the same code in one process.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from bot.app import App, build_app, configure_logging, engine_from_settings
from bot.settings import Settings
from messages.render import render

log = logging.getLogger("parbot.workers")


def refusal(settings: Settings, workers: int) -> str | None:
    """Why `workers` processes cannot run with these settings (a Vietnamese message), or None."""
    if workers <= 1:
        return None
    engine = engine_from_settings(settings)
    try:
        if engine.dialect.name != "postgresql":
            return render("web/workers_sqlite.j2", workers=workers)
    finally:
        engine.dispose()
    if settings.telegram_bot_token is not None and settings.telegram_mode != "webhook":
        return render(
            "web/workers_polling.j2", workers=workers, channel="Telegram", setting="TELEGRAM_MODE"
        )
    if settings.zalo_bot_token is not None and settings.zalo_bot_mode != "webhook":
        return render(
            "web/workers_polling.j2", workers=workers, channel="Zalo", setting="ZALO_BOT_MODE"
        )
    return None


def web_app(app: App) -> Starlette:
    """The web companion's ASGI app over a built `App`, its channels started by the lifespan."""
    from bot.runtime import start_channels
    from bot.web.app import create_app
    from bot.web.links import WebFileLinks
    from bot.web.server import feature_routes, web_context

    web = web_context(app)
    starlette = create_app(web, feature_routes(app), app.webhooks)
    starlette.state.links = WebFileLinks(web)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if await start_channels(app, stack, serve_web=False):
                raise RuntimeError("a channel refused to start (see the log)")
            log.info("worker ready")
            yield

    starlette.router.lifespan_context = lifespan
    return starlette


def create() -> Starlette:
    """The application factory each worker process calls (`uvicorn --factory`)."""
    settings = Settings()
    configure_logging(settings)
    app = build_app(settings, engine_from_settings(settings))
    app.shared = True
    return web_app(app)


def main(settings: Settings, workers: int) -> int:
    from bot.runtime import prepare_database

    try:
        address = settings.web_address()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if address is None:
        print(render("web/cli_off.j2"), file=sys.stderr)
        return 2
    refused = refusal(settings, workers)
    if refused is not None:
        print(refused, file=sys.stderr)
        return 2
    configure_logging(settings)
    engine = engine_from_settings(settings)
    prepare_database(settings, engine, seed_if_empty=False)  # once, before any worker starts
    engine.dispose()
    host, port = address
    proxies = [p.strip() for p in settings.web_trusted_proxies.split(",") if p.strip()]
    print(
        render("web/workers_serving.j2", url=settings.web_public_url(), workers=workers),
        file=sys.stderr,
    )
    uvicorn.run(
        "bot.web.workers:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        access_log=False,  # raw paths carry link tokens: bot.web.security.AccessLog logs names
        log_config=None,
        server_header=False,
        limit_concurrency=500,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
    )
    return 0
