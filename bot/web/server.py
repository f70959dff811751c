"""Starting the web companion: `parbot run` beside the channels, `parbot serve` alone.

uvicorn serves the app in the bot's own event loop (no second process). It honours
X-Forwarded-For/Proto only from PARBOT_WEB_TRUSTED_PROXIES; its own access log is off (it prints
raw paths, which carry link tokens) and bot.web.security.AccessLog logs route names instead.

A feature module (bot/app.py FEATURES) adds pages by exposing `web_routes(runtime)`; the
dashboard does. A channel adds its webhook through the `Webhooks` registry kept here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.web.app import create_app
from bot.web.context import OpsPolicy, WebContext
from bot.web.hooks import Webhooks
from bot.web.links import WebFileLinks
from core.clock import SystemClock
from storage.web.tokens import SessionPolicy

log = logging.getLogger("parbot.web")


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the bot's runtime owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def minimal_context(engine: Engine, public_url: str) -> WebContext:
    return WebContext(engine=engine, clock=SystemClock(), public_url=public_url)


def web_context(runtime: Any) -> WebContext:
    """The web companion's services from the runtime (settings, engine, clock, dispatcher)."""
    from bot.runtime import chat_config, limits_from

    settings = runtime.settings
    url = settings.web_public_url()
    assert url is not None
    return WebContext(
        engine=runtime.engine,
        clock=runtime.clock,
        public_url=url,
        config=chat_config(settings),
        limits=limits_from(settings),
        link_ttl=timedelta(hours=settings.link_ttl_hours),
        sessions=SessionPolicy(
            idle=timedelta(hours=settings.web_session_idle_hours),
            absolute=timedelta(hours=settings.web_session_hours),
        ),
        dispatcher=runtime.dispatcher,
        ops=ops_policy(settings),
    )


def ops_policy(settings: Any) -> OpsPolicy:
    """Who may read /healthz and /metrics (bot/web/ops.py)."""
    token = settings.ops_token.get_secret_value() if settings.ops_token else None
    return OpsPolicy(
        token=token,
        behind_proxy=bool(trusted_proxies(settings.web_trusted_proxies)),
        max_lag_seconds=settings.health_max_lag,
    )


def file_links(runtime: Any) -> WebFileLinks | None:
    """The `core.files.FileLinks` port for channels that cannot carry files; None without a
    web companion (PARBOT_WEB_URL / PARBOT_WEB_LISTEN unset), so no link is claimed."""
    if runtime.settings.web_public_url() is None:
        return None
    return WebFileLinks(web_context(runtime))


def feature_routes(runtime: Any) -> list[BaseRoute]:
    """Routes of every feature module that has `web_routes(runtime)`."""
    routes: list[BaseRoute] = []
    for module in runtime.features:
        provider = getattr(module, "web_routes", None)
        if provider is not None:
            routes.extend(provider(runtime))
    return routes


def trusted_proxies(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@contextlib.asynccontextmanager
async def listening(
    web: WebContext,
    host: str,
    port: int,
    *,
    webhooks: Webhooks | None = None,
    routes: Sequence[BaseRoute] = (),
    proxies: Sequence[str] = (),
) -> AsyncIterator[Starlette]:
    """Serve the app on host:port for the duration of the block."""
    app = create_app(web, routes, webhooks)
    app.state.links = WebFileLinks(web)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=list(proxies) or None,
        access_log=False,
        log_config=None,
        lifespan="off",
        server_header=False,
        limit_concurrency=500,
        timeout_keep_alive=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
            raise OSError(f"web companion did not start on {host}:{port}")
        await asyncio.sleep(0.02)
    log.info("web companion listening host=%s port=%s url=%s", host, port, web.public_url)
    try:
        yield app
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=10)


@contextlib.asynccontextmanager
async def alongside(runtime: Any, webhooks: Webhooks) -> AsyncIterator[Starlette | None]:
    """The web companion beside the channels when PARBOT_WEB_LISTEN is set; else nothing."""
    address = runtime.settings.web_address()
    if address is None:
        yield None
        return
    host, port = address
    web = web_context(runtime)
    proxies = trusted_proxies(runtime.settings.web_trusted_proxies)
    async with listening(
        web, host, port, webhooks=webhooks, routes=feature_routes(runtime), proxies=proxies
    ) as app:
        yield app
