"""The web companion's ASGI application (Starlette): one app for webhooks, links, pages, API.

`create_app(web, routes=…)` is the factory; a feature adds its pages by passing routes (the
dashboard does), a channel adds its webhook through `app.state.webhooks.register(…)`. Every
page knows who is signed in from `request.state.viewer` (a `core.commands.Actor`, or None).

Middleware, outermost first: the access log (route names only, never tokens), security
headers, sessions (sets the viewer). Proxy headers are honoured by uvicorn only from
PARBOT_WEB_TRUSTED_PROXIES (see bot.web.server).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.web import api, auth, links, ops, uploads
from bot.web.auth import Sessions, viewer_of
from bot.web.context import WebContext
from bot.web.hooks import Webhooks
from bot.web.pages import forbidden, page
from bot.web.security import AccessLog, SecurityHeaders

STATIC = Path(__file__).parent / "static"


async def home(request: Request) -> Response:
    """The signed-in landing page (the dashboard replaces it); a how-to-sign-in page otherwise."""
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2")
    return page(request, "web/home.j2")


async def agency(request: Request) -> Response:
    """An agency's page: only its own focal points, coordinators, leaders and admins may look.

    A stand-in for the dashboard's *Cơ quan* page; it exists so the scope rule is enforced and
    audited at the web seam from the start.
    """
    viewer = viewer_of(request)
    code = request.path_params["code"]
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    if not may_see_agency(viewer.role.value, viewer.agency_code, code):
        return forbidden(request, f"agency:{code[:40]}")
    return page(request, "web/agency.j2", code=code)


def may_see_agency(role: str, own_code: str | None, code: str) -> bool:
    """Core's report scope rule: focal points see their agency, the whole-report roles all."""
    from core.report_model import Scope, scope_for

    try:
        granted = scope_for(role, own_code, Scope(agency_code=code))
    except Exception:
        return False
    return granted.agency_code is None or granted.agency_code.upper() == code.upper()


async def not_found(request: Request, exc: Exception) -> Response:
    return page(request, "web/not_found.j2", status=404)


def create_app(
    web: WebContext,
    routes: Sequence[BaseRoute] = (),
    webhooks: Webhooks | None = None,
) -> Starlette:
    """The app; `routes` come before the built-in ones, so a feature may replace `/`."""
    webhooks = webhooks or Webhooks()
    built_in: list[BaseRoute] = [
        Route("/", home, methods=["GET"], name="home"),
        Route("/co-quan/{code}", agency, methods=["GET"], name="agency"),
        *ops.ROUTES,  # /healthz, /metrics: local or PARBOT_OPS_TOKEN only
        *auth.ROUTES,
        *links.ROUTES,
        *uploads.ROUTES,
        *api.ROUTES,
        *webhooks.routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    every = [*routes, *built_in]
    app = Starlette(
        routes=every,
        middleware=[
            Middleware(AccessLog, routes=every),
            Middleware(SecurityHeaders),
            Middleware(Sessions, web=web),
        ],
        exception_handlers={404: not_found},
    )
    app.state.web = web
    app.state.webhooks = webhooks
    return app
