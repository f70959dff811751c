"""A fake Zalo Official Account Open API v3 and its OAuth v4 server (zalo.md §2).

One server answers both hosts' paths: `/v4/oa/access_token` (code + PKCE verifier, or a
refresh token that is **single-use and rotates**), `/v3.0/oa/message/cs` (text, `oa.query.*`
buttons, file attachments), `/v2.0/oa/upload/file` (PDF/DOC/DOCX ≤ 5 MB), `/v2.0/oa/upload/image`,
`/message/template` (ZNS by phone). Replies are `{error, message, data}` with HTTP 200 even on
failure; `-216` = access token invalid, `-118` = refresh token invalid. Shapes:
fixtures/oa_*.json. `event()` builds a webhook body signed as Zalo signs it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.zalo._http import FakeServer, HttpReply, HttpRequest, JSONDict

NATIVE_FILES = {"pdf", "doc", "docx"}
MAX_FILE = 5 * 1024 * 1024


@dataclass
class OACall:
    path: str
    params: JSONDict
    reply: JSONDict

    @property
    def ok(self) -> bool:
        return self.reply.get("error") == 0


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signature(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    raw = app_id.encode() + body + timestamp.encode() + secret.encode()
    return "mac=" + hashlib.sha256(raw).hexdigest()


class FakeZaloOA(FakeServer):
    def __init__(
        self,
        app_id: str = "360846524940903967",
        app_secret: str = "app-secret-for-tests",
        oa_secret: str = "oa-secret-for-tests",
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.app_id, self.app_secret, self.oa_secret = app_id, app_secret, oa_secret
        self.oa_id = "388613280878808645"
        self.codes: dict[str, str] = {}  # authorization code -> PKCE challenge
        self.access: dict[str, float] = {}  # valid access token -> expiry (epoch)
        self.refresh: set[str] = set()  # refresh tokens not yet used
        self.expires_in = 90000
        self.calls: list[OACall] = []
        self.uploads: dict[str, tuple[str, bytes]] = {}
        self.files: dict[str, bytes] = {}

    # -- driving it
    def consent(self, code_challenge: str) -> str:
        """The user approved the consent page: the code the callback receives."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = code_challenge
        return code

    def revoke_access(self) -> None:
        self.access.clear()

    def event(
        self, user_id: str, event_name: str = "user_send_text", **message: Any
    ) -> tuple[dict[str, str], bytes]:
        """A signed webhook delivery: (headers, raw body)."""
        timestamp = str(int(time.time() * 1000))
        msg = {"msg_id": secrets.token_hex(10), **message}
        body = json.dumps(
            {
                "app_id": self.app_id,
                "event_name": event_name,
                "timestamp": timestamp,
                "sender": {"id": user_id},
                "recipient": {"id": self.oa_id},
                "message": msg,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"X-ZEvent-Signature": signature(self.app_id, body, timestamp, self.oa_secret)}
        return headers, body

    def file_url(self, content: bytes, name: str) -> str:
        key = secrets.token_hex(8)
        self.files[key] = content
        return f"{self.base_url}/files/{key}/{name}"

    def sent(self, user_id: str | None = None, path: str = "/v3.0/oa/message/cs") -> list[OACall]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.path == path
                and c.ok
                and (user_id is None or (c.params.get("recipient") or {}).get("user_id") == user_id)
            ]

    # -- HTTP
    def handle(self, request: HttpRequest) -> HttpReply:
        path = request.path
        if path.startswith("/files/"):
            key = path.split("/")[2]
            content = self.files.get(key)
            return (
                HttpReply(200, content, "application/octet-stream") if content else HttpReply(404)
            )
        params = request.params()
        if path == "/v4/oa/access_token":
            reply = self._token(request, params)
        elif not self._authorised(request):
            reply = {"error": -216, "message": "Access token is invalid"}
        elif path == "/v3.0/oa/message/cs":
            reply = self._send(params)
        elif path == "/v2.0/oa/upload/file":
            reply = self._upload(params, file=True)
        elif path == "/v2.0/oa/upload/image":
            reply = self._upload(params, file=False)
        elif path == "/message/template":
            reply = self._zns(params)
        else:
            reply = {"error": -201, "message": "Unknown API"}
        with self.lock:
            self.calls.append(OACall(path, params, reply))
        return HttpReply.json(reply)

    def _authorised(self, request: HttpRequest) -> bool:
        token = request.headers.get("access_token", "")
        with self.lock:
            return self.access.get(token, 0) > time.time()

    def _issue(self) -> JSONDict:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = time.time() + self.expires_in
        self.refresh.add(refresh)
        # expires_in as a string, as Zalo sends it (zalo.md §2 [F])
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": str(self.expires_in),
        }

    def _token(self, request: HttpRequest, params: JSONDict) -> JSONDict:
        if (
            request.headers.get("secret_key") != self.app_secret
            or params.get("app_id") != self.app_id
        ):
            return {
                "error": -14002,
                "error_name": "Invalid app",
                "error_reason": "app_id or secret_key",
            }
        with self.lock:
            if params.get("grant_type") == "authorization_code":
                challenge = self.codes.pop(str(params.get("code")), None)
                if (
                    challenge is None
                    or pkce_challenge(str(params.get("code_verifier", ""))) != challenge
                ):
                    return {"error": -14019, "error_name": "Invalid code"}
                return self._issue()
            if params.get("grant_type") == "refresh_token":
                token = str(params.get("refresh_token", ""))
                if token not in self.refresh:
                    return {"error": -118, "error_name": "Invalid refresh_token"}
                self.refresh.discard(token)  # single use: it rotates
                return self._issue()
        return {"error": -14003, "error_name": "Invalid grant_type"}

    def _send(self, params: JSONDict) -> JSONDict:
        user = (params.get("recipient") or {}).get("user_id")
        message = params.get("message") or {}
        if not user:
            return {"error": -201, "message": "recipient is required"}
        text = message.get("text")
        if text is not None and len(text) > 2000:
            return {"error": -210, "message": "text is too long"}
        attachment = message.get("attachment") or {}
        if attachment.get("type") == "file":
            token = (attachment.get("payload") or {}).get("token")
            if token not in self.uploads:
                return {"error": -201, "message": "invalid file token"}
        return {
            "error": 0,
            "message": "Success",
            "data": {"message_id": secrets.token_hex(9), "user_id": user},
        }

    def _upload(self, params: JSONDict, file: bool) -> JSONDict:
        part = params.get("file")
        if not isinstance(part, dict):
            return {"error": -201, "message": "file is required"}
        name, content = str(part["filename"]), bytes(part["content"])
        extension = name.rsplit(".", 1)[-1].lower()
        if file and (extension not in NATIVE_FILES or len(content) > MAX_FILE):
            return {"error": -201, "message": "file type or size not allowed"}
        if not file and (extension not in {"jpg", "jpeg", "png"} or len(content) > 1024 * 1024):
            return {"error": -201, "message": "image type or size not allowed"}
        token = secrets.token_urlsafe(20)
        self.uploads[token] = (name, content)
        data = {"token": token} if file else {"attachment_id": token}
        return {"error": 0, "message": "Success", "data": data}

    def _zns(self, params: JSONDict) -> JSONDict:
        if not params.get("phone") or not params.get("template_id"):
            return {"error": -124, "message": "phone and template_id are required"}
        return {
            "error": 0,
            "message": "Success",
            "data": {"msg_id": secrets.token_hex(6), "sent_time": str(int(time.time() * 1000))},
        }
