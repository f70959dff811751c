"""Webhook mount points: each channel registers its endpoint under a reserved path.

The paths are fixed here so that deployments and proxies can be configured before a channel
exists: `/webhooks/telegram`, `/webhooks/zalo` (Bot Platform), `/webhooks/zalo-oa` (Official
Account) and `/oauth/zalo/callback`. A path nobody registered answers 404. Registration may
happen after the app is built (a channel starts after the server is listening).

An endpoint gets the raw Starlette `Request` and must check its secret header *before* reading
the body, then read it only through `bot.web.security.read_capped` (1 MB).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]
RESERVED = {
    "telegram": "/webhooks/telegram",
    "zalo": "/webhooks/zalo",
    "zalo_oa": "/webhooks/zalo-oa",
    "zalo_oauth": "/oauth/zalo/callback",
}


class Webhooks:
    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}

    def register(self, name: str, endpoint: Endpoint) -> str:
        """Serve `endpoint` at the reserved path of `name`; returns that path."""
        if name not in RESERVED:
            raise ValueError(f"no webhook mount point named {name!r}: {sorted(RESERVED)}")
        self._endpoints[name] = endpoint
        return RESERVED[name]

    def unregister(self, name: str) -> None:
        self._endpoints.pop(name, None)

    def routes(self) -> list[Route]:
        return [self._route(name, path) for name, path in RESERVED.items()]

    def _route(self, name: str, path: str) -> Route:
        async def endpoint(request: Request) -> Response:
            target = self._endpoints.get(name)
            if target is None:
                return Response(status_code=404)
            return await target(request)

        methods = ["GET"] if name == "zalo_oauth" else ["POST"]
        return Route(path, endpoint, methods=methods, name=f"webhook_{name}")
