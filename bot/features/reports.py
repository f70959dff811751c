"""/tonghop in chat: the compiled report flow (core/flows/compiled_report.py) plugged in.

The flow reads its choices through `SqlReportScopes` (storage/reports/scopes.py) and compiles
after the update commits with `compile_job` (messages/reports/in_chat.py).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from core.commands import ChatContext, Registry
from core.flows.compiled_report import (
    ReportScopes,
    build_compiled_report_flow,
    start,
)
from core.outgoing import Outgoing
from messages.reports.in_chat import compile_job, words
from storage.reports.scopes import SqlReportScopes


def scopes_of(ctx: ChatContext) -> ReportScopes:
    """One port per update, on the update's session."""
    scopes = ctx.cache.get("report_scopes")
    if scopes is None:
        scopes = ctx.cache["report_scopes"] = SqlReportScopes(ctx.session)
    return scopes


def tonghop(ctx: ChatContext) -> list[Outgoing]:
    return start(ctx, scopes_of(ctx))


def register(registry: Registry) -> None:
    """Any linked user may ask; `scope_for` (core) narrows or refuses."""
    registry.add_flow(build_compiled_report_flow(scopes_of, compile_job))
    registry.add_command("tonghop", str(words().description()), tonghop)


def web_routes(app: Any) -> list[BaseRoute]:
    """The coordinators' dashboard on the web companion (bot/web/dashboard/)."""
    from bot.web.dashboard import ROUTES

    return list(ROUTES)


REFRESH_EVERY = 10.0  # seconds: how far the dashboard may trail a report just sent


async def run(app: Any) -> None:
    """Keep the dashboard's stored evaluations up with new reports, off the chat's write
    path: a report commits at chat speed; its agency's evaluations follow within seconds."""
    import asyncio
    import logging

    from storage.reports.evaluation_store import refresh_stale

    log = logging.getLogger("parbot.evaluations")
    while True:
        try:
            await asyncio.to_thread(
                refresh_stale, app.engine, app.dispatcher.config.timezone, app.clock.now()
            )
        except Exception:
            log.exception("evaluation refresh failed")
        await asyncio.sleep(REFRESH_EVERY)
