"""Knowing the moment a request's bytes have left, to keep the crash window to that moment.

A delivery is uncertain after a crash only if the row was claimed and the request may or may
not have been written. The worker lets one claim at a time into that stretch (claim → bytes
written) and opens the gate again as soon as the HTTP client reports the request body written
(httpcore's `trace` extension), so concurrent sends do not sit claimed-but-unsent behind each
other while the event loop is busy. A client without this transport simply holds the gate
until its send returns: slower, equally safe.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

import httpx

#: Set by the worker around one send; fired by the transport when the request is written.
REQUEST_WRITTEN: ContextVar[asyncio.Event | None] = ContextVar(
    "parbot_request_written", default=None
)
_WRITTEN = ("http11.send_request_body.complete", "http2.send_request_body.complete")


class WrittenSignalTransport(httpx.AsyncBaseTransport):
    """Wraps httpx's transport; tells the delivery worker when a request's body is written."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        event = REQUEST_WRITTEN.get()
        if event is not None:
            previous = request.extensions.get("trace")

            async def trace(name: str, info: dict[str, Any]) -> None:
                if name in _WRITTEN:
                    event.set()
                if previous is not None:
                    await previous(name, info)

            request.extensions["trace"] = trace
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def signalling_transport(pool_size: int = 32) -> WrittenSignalTransport:
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    return WrittenSignalTransport(httpx.AsyncHTTPTransport(limits=limits))
