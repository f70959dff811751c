"""Helpers of the dashboard tests: the app with the dashboard mounted, on the demo database."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from bot.web.app import create_app
from bot.web.context import WebContext
from bot.web.dashboard import ROUTES
from bot.web.links import WebFileLinks
from core.clock import FixedClock
from storage.db import transaction
from storage.reports.evaluation_store import refresh_all
from tests.bot.web.support import BASE, web_of
from tests.support.reports import NOW, TZ


def dashboard_web(engine: Engine) -> WebContext:
    """The web context at the demo's "now", with every evaluation stored (the daily job)."""
    web = web_of(engine, FixedClock(NOW))
    with transaction(engine) as session:
        refresh_all(session, TZ, NOW)
    return web


def dashboard_client(web: WebContext) -> httpx.AsyncClient:
    app = create_app(web, routes=ROUTES)
    app.state.links = WebFileLinks(web)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.8", 5000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)
