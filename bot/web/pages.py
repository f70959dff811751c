"""Server-rendered pages: one autoescaping Jinja2 environment over messages/templates/web/.

The chat environment (messages.render) does not escape, since chat text is plain; HTML pages
must, so they get their own environment with the same filters. `page()` is how every route
(the dashboard's too) answers with HTML; `forbidden()` is the one 403, always audited.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from messages.render import TEMPLATES, vn_date, vn_datetime
from storage.chat.state import audit
from storage.db import transaction


@cache
def html_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = vn_datetime
    env.filters["vn_number"] = vn_number
    return env


def vn_number(value: int) -> str:
    """4121 → "4.121": thousands grouped with a dot, as Vietnamese documents (and the chart)
    write them."""
    return f"{value:,}".replace(",", ".")


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render `messages/templates/<template>` with the viewer and CSRF token available."""
    state = request.scope.get("state") or {}
    context.setdefault("viewer", state.get("viewer"))
    context.setdefault("csrf", state.get("csrf", ""))
    html = html_environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


def viewer_key(request: Request) -> tuple[str, int | None]:
    viewer = (request.scope.get("state") or {}).get("viewer")
    if viewer is None:
        client = (request.scope.get("client") or ("?",))[0]
        return f"web:{client}", None
    return viewer.key, viewer.contact_id


def audit_web(request: Request, action: str, target: str, outcome: str, **detail: Any) -> None:
    """An audit row for what the viewer (or an anonymous address) did on the web."""
    web = request.app.state.web
    actor, contact_id = viewer_key(request)
    with transaction(web.engine) as session:
        audit(session, actor, action, target, outcome, contact_id, web.clock.now(), **detail)


def forbidden(request: Request, target: str, reason: str = "scope") -> HTMLResponse:
    """The 403 page (Vietnamese), with an audit row naming who tried what."""
    audit_web(request, "web.forbidden", target, "refused", reason=reason)
    return page(request, "web/forbidden.j2", status=403, reason=reason)
