"""Sign-in without passwords: single-use links from the bot, server-side sessions, CSRF.

A sign-in link (`/l/<token>`, 10 minutes, one use, bound to a contact) opens a page with one
button; only pressing it (a POST) spends the link and opens a session. Messengers fetch links
to draw previews, so a GET that signed in would burn the link before the person tapped it.

The session cookie is HttpOnly, SameSite=Lax, Secure when the public URL is https; the server
keeps only its hash, with idle and absolute expiry (settings) and a logout. Every POST carries
a CSRF token: the session's own for signed-in forms, a double-submit cookie for the anonymous
ones (the sign-in button, the upload page). Bad links count against the client address and,
repeated, block it for a while (429).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.web.pages import audit_web, page
from bot.web.security import BodyTooLarge, read_capped
from core.commands import Actor
from storage.chat.state import actor_for, audit
from storage.db import transaction
from storage.tables.shared import Contact
from storage.tables.web import WebLink
from storage.web.tokens import (
    SIGNIN,
    check_link,
    consume_link,
    digest,
    end_session,
    live_session,
    open_session,
    record_bad_link,
    throttled,
)

SESSION_COOKIE = "parbot_session"
FORM_COOKIE = "parbot_form"  # double-submit CSRF token of anonymous forms
FORM_CAP = 16 * 1024


def viewer_of(request: Request) -> Actor | None:
    """The signed-in contact (as core's Actor), or None: what every page asks first."""
    return (request.scope.get("state") or {}).get("viewer")


class Sessions:
    """Puts `request.state.viewer` (an Actor or None) and the session's CSRF token on scope."""

    def __init__(self, app: ASGIApp, web: Any) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            state["viewer"], state["csrf"], state["session_id"] = None, "", None
            token = _cookie(scope, SESSION_COOKIE)
            if token:
                found = await run_in_threadpool(self._load, token)
                if found is not None:
                    state["viewer"], state["csrf"], state["session_id"] = found
        await self.app(scope, receive, send)

    def _load(self, token: str) -> tuple[Actor, str, int] | None:
        web = self.web
        with transaction(web.engine) as session:
            row = live_session(session, token, web.clock.now(), web.sessions)
            if row is None:
                return None
            contact = session.get(Contact, row.contact_id)
            assert contact is not None and row.id is not None
            actor = actor_for(session, contact.channel, contact.user_id)
            return (actor, row.csrf, row.id) if actor is not None else None


def _cookie(scope: Scope, name: str) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return ""


def client_of(request: Request) -> str:
    return (request.scope.get("client") or ("?",))[0]


async def small_form(request: Request, cap: int = FORM_CAP) -> dict[str, str]:
    """A urlencoded form of at most `cap` bytes, 16 KB unless a form carries long text
    (`BodyTooLarge` past it)."""
    body = await read_capped(request, cap)
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """The signed-in form's token matches the session's (constant-time)."""
    expected = (request.scope.get("state") or {}).get("csrf") or ""
    return bool(expected) and hmac.compare_digest(form.get("csrf", ""), expected)


def anonymous_csrf_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(FORM_COOKIE, "")
    return bool(expected) and hmac.compare_digest(sent, expected)


def with_form_cookie(request: Request, template: str, **context: Any) -> Response:
    """An anonymous form page and its double-submit cookie."""
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, template, form_csrf=token, **context)
    web = request.app.state.web
    response.set_cookie(
        FORM_COOKIE, token, httponly=True, samesite="strict", secure=web.https, path="/"
    )
    return response


def refused_link(request: Request, kind: str, reason: str) -> Response:
    """A bad link: the Vietnamese refusal page, an audit row, and one more strike."""
    web = request.app.state.web
    client = client_of(request)
    token = str(request.path_params.get("token", ""))
    with transaction(web.engine) as session:
        now = web.clock.now()
        blocked = record_bad_link(session, client, now)
        known = session.exec(select(WebLink).where(WebLink.token_hash == digest(token))).first()
        contact_id = known.contact_id if known is not None else None  # audited with its owner
        audit(
            session,
            f"web:{client}",
            f"web.{kind}",
            f"link:{known.id if known else '?'}",
            "refused",
            contact_id,
            now,
            reason=reason,
            blocked=blocked,
        )
    return page(
        request,
        "web/link_refused.j2",
        status=410 if reason != "unknown" else 404,
        reason=reason,
        kind=kind,
    )


def too_many(request: Request) -> Response:
    return page(request, "web/too_many.j2", status=429)


async def signin_page(request: Request) -> Response:
    """GET /l/<token>: a page with the "Đăng nhập" button; the link is not spent yet."""
    web = request.app.state.web
    token = request.path_params["token"]
    if await run_in_threadpool(_throttled, web, client_of(request)):
        return too_many(request)
    check = await run_in_threadpool(_check, web, token)
    if not check.ok:
        return await run_in_threadpool(refused_link, request, SIGNIN, check.reason)
    return with_form_cookie(request, "web/signin.j2", action=request.url.path)


async def signin(request: Request) -> Response:
    """POST /l/<token>: spend the link, open a session, go to the landing page."""
    web = request.app.state.web
    token = request.path_params["token"]
    if await run_in_threadpool(_throttled, web, client_of(request)):
        return too_many(request)
    try:
        form = await small_form(request)
    except BodyTooLarge:
        return Response(status_code=413)
    if not anonymous_csrf_ok(request, form.get("csrf", "")):
        audit_web(request, "web.signin", "csrf", "refused")
        return page(request, "web/csrf.j2", status=403)
    agent = request.headers.get("user-agent", "")
    opened, reason = await run_in_threadpool(_redeem, web, token, client_of(request), agent)
    if opened is None:
        return await run_in_threadpool(refused_link, request, SIGNIN, reason)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened,
        max_age=int(web.sessions.absolute.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=web.https,
        path="/",
    )
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    """POST /dang-xuat: end the session (CSRF-checked), forget the cookie."""
    web = request.app.state.web
    try:
        form = await small_form(request)
    except BodyTooLarge:
        return Response(status_code=413)
    state = request.scope.get("state") or {}
    if state.get("session_id") is not None:
        if not csrf_ok(request, form):
            audit_web(request, "web.logout", "csrf", "refused")
            return page(request, "web/csrf.j2", status=403)
        await run_in_threadpool(_end, web, state["session_id"])
        audit_web(request, "web.logout", "session", "ok")
    response = page(request, "web/logged_out.j2", viewer=None, csrf="")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _throttled(web: Any, client: str) -> bool:
    with transaction(web.engine) as session:
        return throttled(session, client, web.clock.now())


def _check(web: Any, token: str) -> Any:
    with transaction(web.engine) as session:
        return check_link(session, token, SIGNIN, web.clock.now())


def _redeem(web: Any, token: str, client: str, agent: str) -> tuple[str | None, str]:
    """(the new session's cookie value, "ok"), or (None, why the link was refused)."""
    with transaction(web.engine) as session:
        now = web.clock.now()
        check = check_link(session, token, SIGNIN, now)
        if not check.ok:
            return None, check.reason
        assert check.link is not None
        if not consume_link(session, check.link, now):
            return None, "used"
        cookie, row = open_session(session, check.link.contact_id, now, web.sessions, agent)
        contact = session.get(Contact, check.link.contact_id)
        assert contact is not None
        audit(
            session,
            f"{contact.channel}:{contact.user_id}",
            "web.signin",
            "session",
            "ok",
            contact.id,
            now,
            session_id=row.id,
            client=client,
        )
        return cookie, "ok"


def _end(web: Any, session_id: int) -> None:
    with transaction(web.engine) as session:
        end_session(session, session_id, web.clock.now())


ROUTES = [
    Route("/l/{token}", signin_page, methods=["GET"], name="signin_page"),
    Route("/l/{token}", signin, methods=["POST"], name="signin"),
    Route("/dang-xuat", logout, methods=["POST"], name="logout"),
]
