"""An httpx transport that tells the delivery worker when a request's bytes have left.

The worker's side (the context variable it sets around one send, and why) is in
scheduler/written_signal.py; this is the HTTP half, kept with the adapters so the scheduler
imports no HTTP client. Any adapter on httpx (Telegram's delivery bot, Zalo) can use it.
"""

from __future__ import annotations

from typing import Any

import httpx

from scheduler.written_signal import REQUEST_WRITTEN

_WRITTEN = ("http11.send_request_body.complete", "http2.send_request_body.complete")
_ANSWERED = ("http11.receive_response_headers.complete", "http2.receive_response_headers.complete")


class WrittenSignalTransport(httpx.AsyncBaseTransport):
    """Wraps httpx's transport; tells the delivery worker when a request's body is written and
    when its answer's headers came back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        event = REQUEST_WRITTEN.get()
        if event is not None:
            previous = request.extensions.get("trace")

            async def trace(name: str, info: dict[str, Any]) -> None:
                if name in _WRITTEN:
                    event.set()
                elif name in _ANSWERED:
                    event.answered()
                if previous is not None:
                    await previous(name, info)

            request.extensions["trace"] = trace
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def signalling_transport(pool_size: int = 32, proxy: str | None = None) -> WrittenSignalTransport:
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    return WrittenSignalTransport(httpx.AsyncHTTPTransport(limits=limits, proxy=proxy))
