"""python-telegram-bot's HTTP layer on aiohttp (a `telegram.request.BaseRequest`).

Why: every chat step costs one to three Bot API calls (answerCallbackQuery, sendMessage,
getFile + download). With PTB's default httpx transport, the HTTP client was most of the bot's
CPU time (about 2 ms per request here); aiohttp does the same request for about a quarter of
that, which is what lets 200 focal points report at once on one core (bench/chat_latency.py).

Same contract as PTB's HTTPXRequest: parameters go form-encoded (each value already JSON-encoded
by PTB), uploads as multipart; timeouts map to TimedOut, transport failures to NetworkError.
Error messages never contain the request URL, because the URL contains the bot token.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import hdrs
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._proxy = proxy  # HTTPS_PROXY (bot/channels/outbound_proxy.py); None: direct
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, trust_env=False
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = self._write_timeout if not files else self._media_write_timeout
        if not isinstance(write_timeout, DefaultValue):
            write = write_timeout
        # aiohttp has no write timeout of its own: a slow upload is bounded by the read timeout
        # plus the write allowance, so the whole request still ends.
        total = None if read is None else read + (write or 0) + (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=(connect or 0) + (pool or 0) or None, sock_read=read
        )
        body: Any = None
        if files:
            body = _multipart(request_data.json_parameters if request_data else {}, files)
        elif request_data is not None:
            body = request_data.json_parameters  # form-encoded, as PTB's own transport does
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            message = str(err).replace(url, "<url>")
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {message}") from err


def _multipart(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.MultipartWriter:
    """Multipart like PTB's httpx transport sends it: plain value parts without a content type,
    file names in UTF-8 as they are (not percent-encoded)."""
    writer = aiohttp.MultipartWriter("form-data")
    for name, value in fields.items():
        part = writer.append(value)
        part.headers.pop(hdrs.CONTENT_TYPE, None)
        part.set_content_disposition("form-data", name=name, quote_fields=False)
    for name, (file_name, content, mime) in files.items():
        part = writer.append(content, {hdrs.CONTENT_TYPE: mime})
        part.set_content_disposition(
            "form-data", name=name, filename=file_name or name, quote_fields=False
        )
    return writer
