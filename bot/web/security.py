"""Security of every response and bounded request bodies.

Headers: a Content-Security-Policy that allows no inline script and no framing, `nosniff`, and
no Referer anywhere (link pages carry bearer tokens in their path; a Referer would leak them to
whatever they link to). Bodies: a route reads its body only through `read_capped`, which
refuses a declared Content-Length over the cap without reading a byte, and stops a chunked
body as soon as it passes the cap — a stranger's 50 MB POST never sits in memory.

The access log names the route (`/l/{token}`), never the path, so link and session tokens never
reach a log line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("parbot.web.access")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class BodyTooLarge(Exception):
    """The request body passed the route's cap (HTTP 413)."""


async def read_capped(request: Request, cap: int) -> bytes:
    """The whole body, at most `cap` bytes; `BodyTooLarge` before reading when declared larger."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > cap):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def declared_too_large(request: Request, cap: int) -> bool:
    declared = request.headers.get("content-length")
    return declared is not None and (not declared.isdigit() or int(declared) > cap)


class SecurityHeaders:
    """Adds the security headers to every HTTP response (unless a route set its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in HEADERS if n not in present]
                if scope.get("scheme") == "https":
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def route_name(routes: Any, scope: Scope) -> str:
    """The matched route's path template (`/l/{token}`): what the access log may print."""
    for route in routes:
        try:
            match, _ = route.matches(scope)
        except Exception:  # a malformed path: say nothing of it
            continue
        if match is Match.FULL:
            return getattr(route, "path", "?") or "?"
    return "<unmatched>"


class AccessLog:
    """One line per request: method, route template, status, time — never the raw path."""

    def __init__(self, app: ASGIApp, routes: Any) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            log.info(
                "request method=%s route=%s status=%s ms=%.1f client=%s",
                scope.get("method"),
                route_name(self.routes, scope),
                status["code"],
                (time.perf_counter() - start) * 1000,
                (scope.get("client") or ("-",))[0],
            )
