"""/tonghop in chat: the compiled report flow (core/flows/compiled_report.py) plugged in.

The flow reads its choices through `SqlReportScopes` (storage/reports/scopes.py) and compiles
after the update commits with `compile_job` (messages/reports/in_chat.py).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from core.commands import ChatContext, Registry, per_update
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
    return per_update(ctx, "report_scopes", lambda: SqlReportScopes(ctx.session))


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
