"""A thin async client of the Zalo Bot Platform (`{api}/bot{token}/{method}`, zalo.md §1).

Written by hand because the docs-linked python-zalo-bot returns `result` without checking
`ok` and calls `asyncio.run` inside the event loop. Every reply's `ok` is checked and every
failure becomes one of core's delivery errors, so callers never see httpx. The token sits in
the URL path: nothing here logs a URL, and bot/app.py keeps httpx quiet and redacts the token.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.channels.bounded_download import bounded_download
from core.channel import (
    ChatNotFound,
    DeliveryError,
    MaybeDelivered,
    PermanentError,
    RetryAfter,
    TransientError,
)

log = logging.getLogger("parbot.zalo")

DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
QUOTA_BACKOFF = 60.0  # 429 carries no retry hint [A]: wait a minute before the next try


class InvalidToken(PermanentError):
    """401: the token was reset in Bot Creator or is wrong; admins must be told."""


class NothingNew(Exception):
    """getUpdates answered 408: nothing arrived during the wait (normal)."""


class ZaloBotClient:
    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        quota_backoff: float = QUOTA_BACKOFF,
        proxy: str | None = None,
    ) -> None:
        self.quota_backoff = quota_backoff
        self._base = f"{api_url.rstrip('/')}/bot{token}/"
        if transport is None and proxy is not None:  # HTTPS_PROXY (bot/channels/outbound_proxy)
            transport = httpx.AsyncHTTPTransport(proxy=proxy)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, trust_env=False)
        self.timeout = timeout

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, read_timeout: float | None = None, **params: Any) -> Any:
        """POST one method as JSON; the `result`, or a DeliveryError (never the URL)."""
        timeout = httpx.Timeout(self.timeout, read=read_timeout or self.timeout)
        try:
            reply = await self._http.post(self._base + method, json=params, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(f"{method}: cannot connect") from exc
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            # the request may have reached Zalo: a send must not be repeated blindly
            if method.startswith("send"):
                raise MaybeDelivered(f"{method}: {type(exc).__name__}") from exc
            raise TransientError(f"{method}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"{method}: {type(exc).__name__}") from exc
        try:
            body = reply.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if reply.status_code >= 500:
                raise TransientError(f"{method}: HTTP {reply.status_code}")
            raise PermanentError(f"{method}: HTTP {reply.status_code}, not JSON")
        if body.get("ok") is True:
            return body.get("result")
        error = map_error(method, body, reply.status_code)
        if isinstance(error, RetryAfter):
            error = RetryAfter(self.quota_backoff)
        raise error

    async def get_me(self) -> dict[str, Any]:
        return dict(await self.call("getMe"))

    async def get_update(self, timeout: int = 30) -> dict[str, Any]:
        """One update (the API gives one per call and has no offset); NothingNew on 408."""
        try:
            result = await self.call("getUpdates", read_timeout=timeout + 10, timeout=str(timeout))
        except _Timeout as exc:
            raise NothingNew() from exc
        return dict(result or {})

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        return dict(await self.call("setWebhook", url=url, secret_token=secret_token))

    async def delete_webhook(self) -> dict[str, Any]:
        return dict(await self.call("deleteWebhook") or {})

    async def get_webhook_info(self) -> dict[str, Any]:
        return dict(await self.call("getWebhookInfo") or {})

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        return dict(await self.call("sendMessage", chat_id=chat_id, text=text))

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> dict[str, Any]:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return dict(await self.call("sendPhoto", **params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", chat_id=chat_id, action=action)

    async def download(self, url: str, max_bytes: int) -> bytes | None:
        """An inbound image's temporary URL, fetched at once; None when too big or gone."""
        return await bounded_download(self._http, url, max_bytes, "zalo image")


class _Timeout(PermanentError):
    """error_code 408 (only normal for getUpdates)."""


def map_error(method: str, body: dict[str, Any], status: int) -> DeliveryError:
    """`{ok: false, error_code, description}` → the core error that says what to do next."""
    code = int(body.get("error_code") or status or 0)
    text = f"{method}: {code} {str(body.get('description') or '')[:120]}"
    if code == 408:
        return _Timeout(text)
    if code == 401:
        return InvalidToken(text)
    if code == 429:
        return RetryAfter(QUOTA_BACKOFF)
    if code == 404 and method.startswith("send"):
        return ChatNotFound(text)
    if code >= 500 or code == 403:  # 403 is documented as "internal server error" (sic)
        return TransientError(text)
    return PermanentError(text)
