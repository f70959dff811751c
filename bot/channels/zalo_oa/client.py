"""A thin async client of the OA Open API v3 (`openapi.zalo.me`) and ZNS (zalo.md §2).

Replies are `{error, message, data}`, usually with HTTP 200 even when they fail: `error` is
checked on every reply. Error -216 (also 216 / ±401) means the access token is no longer
valid: the keeper refreshes it and the call is retried once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from bot.channels.bounded_download import bounded_download
from bot.channels.zalo_oa.oauth import TokenKeeper
from core.channel import DeliveryError, MaybeDelivered, PermanentError, RetryAfter, TransientError
from storage.zalo.window import REFUSED, outside_reason

log = logging.getLogger("parbot.zalo_oa")
TOKEN_ERRORS = {-216, 216, 401, -401}
QUOTA_ERRORS = set(range(12000, 12011)) | {-12000, -12007}  # zalo.md §2 [F]: window/quota


class OutsideWindow(PermanentError):
    """The user has not written within the messaging window (and no ZNS route exists)."""


class ZaloOAClient:
    def __init__(
        self,
        keeper: TokenKeeper,
        api_url: str = "https://openapi.zalo.me",
        zns_url: str = "https://business.openapi.zalo.me",
        *,
        timeout: float = 20.0,
        proxy: str | None = None,
    ) -> None:
        self.keeper = keeper
        self.api_url, self.zns_url = api_url.rstrip("/"), zns_url.rstrip("/")
        # HTTPS_PROXY (bot/channels/outbound_proxy.py), or direct
        self._http = httpx.AsyncClient(timeout=timeout, proxy=proxy, trust_env=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, url: str, *, json_body: Any = None, files: Any = None) -> dict[str, Any]:
        token = await self.keeper.access_token()
        for attempt in (1, 2):
            body = await self._post(url, token, json_body, files)
            code = int(body.get("error") or 0)
            if code == 0:
                return dict(body.get("data") or {})
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self.keeper.refresh(token)
                continue
            raise map_error(url, code, str(body.get("message") or ""))
        raise PermanentError("unreachable")

    async def _post(self, url: str, token: str, json_body: Any, files: Any) -> dict[str, Any]:
        headers = {"access_token": token}
        try:
            reply = await self._http.post(url, headers=headers, json=json_body, files=files)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError("zalo oa: cannot connect") from exc
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            if url.endswith(("/message/cs", "/message/template")):
                raise MaybeDelivered(f"zalo oa: {type(exc).__name__}") from exc
            raise TransientError(f"zalo oa: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"zalo oa: {type(exc).__name__}") from exc
        if reply.status_code == 429:
            raise RetryAfter(60.0)
        if reply.status_code >= 500:
            raise TransientError(f"zalo oa: HTTP {reply.status_code}")
        try:
            body = reply.json()
        except ValueError as exc:
            raise PermanentError(f"zalo oa: HTTP {reply.status_code}, not JSON") from exc
        return body if isinstance(body, dict) else {"error": -1}

    async def send(self, user_id: str, message: dict[str, Any]) -> str:
        data = await self._call(
            f"{self.api_url}/v3.0/oa/message/cs",
            json_body={"recipient": {"user_id": user_id}, "message": message},
        )
        return str(data.get("message_id") or "")

    async def upload_file(self, name: str, content: bytes) -> str:
        data = await self._call(
            f"{self.api_url}/v2.0/oa/upload/file", files={"file": (name, content)}
        )
        return str(data["token"])

    async def upload_image(self, name: str, content: bytes) -> str:
        data = await self._call(
            f"{self.api_url}/v2.0/oa/upload/image", files={"file": (name, content)}
        )
        return str(data["attachment_id"])

    async def send_zns(
        self, phone: str, template_id: str, fields: dict[str, str], tracking: str
    ) -> str:
        """A ZNS template message by phone number (paid, approved by Zalo)."""
        body = {
            "phone": phone,
            "template_id": template_id,
            "template_data": fields,
            "tracking_id": tracking,
        }
        data = await self._call(f"{self.zns_url}/message/template", json_body=body)
        return str(data.get("msg_id") or "")

    async def download(self, url: str, max_bytes: int) -> bytes | None:
        return await bounded_download(self._http, url, max_bytes, "zalo oa")


def map_error(url: str, code: int, message: str) -> DeliveryError:
    where = url.rsplit("/", 2)[-1]
    text = f"{where}: {code} {message[:120]}"
    if code in QUOTA_ERRORS:  # Zalo's own window/quota refusal: marked like ours
        return OutsideWindow(outside_reason(text, REFUSED))
    if code in TOKEN_ERRORS:
        return TransientError(text)
    return PermanentError(text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
