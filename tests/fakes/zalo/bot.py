"""A fake Zalo Bot Platform (`/bot<TOKEN>/<method>`), built from the documented shapes.

Shapes and sources: fixtures/bot_*.json (zalo.md §1). What it models, because parbot depends on
it: the `{ok, result, error_code, description}` envelope (HTTP 200 is not success), one update
per getUpdates call with no offset and 408 when nothing arrived, string ids, `date` in
milliseconds, 2,000-character texts, images by URL only, no documents, the webhook with its
`X-Bot-Api-Secret-Token` header, the monthly quota counted both ways (429 "Quota exceeded"),
an optional per-second rate (429 as well) and injected faults (401, 5xx).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.zalo._http import FakeServer, HttpReply, HttpRequest, JSONDict

FIXTURES = Path(__file__).parent / "fixtures"
MAX_TEXT = 2000
METHODS = {
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendPhoto",
    "sendSticker",
    "sendChatAction",
}
SENDS = {"sendMessage", "sendPhoto", "sendSticker"}


def fixture(name: str) -> JSONDict:
    data: JSONDict = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("_source", None)
    return data


@dataclass
class BotCall:
    seq: int
    method: str
    params: JSONDict
    at: float
    reply: JSONDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.reply.get("ok"))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))


class FakeZaloBot(FakeServer):
    def __init__(
        self,
        token: str | None = None,
        *,
        quota: int = 3000,
        rate: float | None = None,
        poll_cap: float = 1.0,
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.token = token or f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"
        self.quota = quota  # messages per month, both directions (Basic plan, zalo.md §1 [G])
        self.used = 0
        self.rate = rate  # sends per second accepted; None: unlimited
        self.poll_cap = poll_cap  # longest getUpdates wait, whatever timeout is asked
        self.calls: list[BotCall] = []
        self.updates: deque[JSONDict] = deque()
        self.delivered: list[JSONDict] = []  # every update handed out (getUpdates or webhook)
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_replies: list[int] = []
        self.faults: dict[str, deque[int]] = {}
        self.files: dict[str, bytes] = {}
        self._seq = itertools.count(1)
        self._arrived = threading.Condition(self.lock)
        self._sent_times: deque[float] = deque()
        self.rejected_429 = 0

    # -- driving the fake from a test
    def _message(self, user: str, name: str, **fields: Any) -> JSONDict:
        return {
            "from": {"id": user, "display_name": name, "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            "message_id": secrets.token_hex(10),
            "date": int(time.time() * 1000),
            **fields,
        }

    def make_text(self, user: str, text: str, name: str = "Đầu mối") -> JSONDict:
        return {
            "event_name": "message.text.received",
            "message": self._message(user, name, text=text),
        }

    def make_image(
        self, user: str, content: bytes, caption: str = "", name: str = "Đầu mối"
    ) -> JSONDict:
        key = secrets.token_hex(8)
        self.files[key] = content
        url = f"{self.base_url}/files/{key}.jpg"
        message = self._message(user, name, photo=url, caption=caption)
        return {"event_name": "message.image.received", "message": message}

    def make_sticker(self, user: str) -> JSONDict:
        message = self._message(user, "Đầu mối", sticker="bfe458bf64fa8da4d4eb", url="")
        return {"event_name": "message.sticker.received", "message": message}

    def make_unsupported(self, user: str) -> JSONDict:
        return {"event_name": "message.unsupported.received", "message": self._message(user, "")}

    def make_event(self, user: str, event_name: str) -> JSONDict:
        return {"event_name": event_name, "message": self._message(user, "", text="bí mật")}

    def inject(self, update: JSONDict) -> None:
        """A user writes: counted against the quota; polled, or POSTed to the webhook."""
        with self.lock:
            self.used += 1
            url, secret = self.webhook_url, self.webhook_secret
            if not url:
                self.updates.append(update)
                self._arrived.notify_all()
                return
        self.delivered.append(update)
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                self.webhook_replies.append(reply.status)
        except urllib.error.HTTPError as exc:
            self.webhook_replies.append(exc.code)

    def fail_next(self, method: str, *codes: int) -> None:
        """The next calls of `method` answer these error codes (401, 429, 500, 502…)."""
        with self.lock:
            self.faults.setdefault(method, deque()).extend(codes)

    def sent(self, chat_id: str | None = None, since: int = 0) -> list[BotCall]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.method in SENDS
                and c.ok
                and c.seq >= since
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def mark(self) -> int:
        with self.lock:
            return next(self._seq)

    def calls_to(self, method: str) -> list[BotCall]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    # -- the HTTP side
    def handle(self, request: HttpRequest) -> HttpReply:
        if request.path.startswith("/_user/"):
            return self._user(request)
        if request.path.startswith("/files/"):
            key = request.path.rsplit("/", 1)[1].split(".")[0]
            content = self.files.get(key)
            if content is None:
                return HttpReply(404, b"not found", "text/plain")
            return HttpReply(200, content, "image/jpeg")
        prefix, _, method = request.path.lstrip("/").partition("/")
        params = request.params()
        if prefix != f"bot{self.token}":
            return HttpReply.json(fixture("bot_replies")["error_401"], 401)
        if method == "getUpdates":
            return self._get_updates(params)
        call = BotCall(next(self._seq), method, params, time.monotonic())
        reply, status = self._answer(method, params)
        call.reply = reply
        with self.lock:
            self.calls.append(call)
        return HttpReply.json(reply, status)

    def _user(self, request: HttpRequest) -> HttpReply:
        """Playing a Zalo user over HTTP (not part of Zalo's API: for people and scripts
        trying parbot by hand). POST /_user/text {"user", "text"}; POST /_user/image
        ?user=…&caption=… with the JPEG/PNG bytes as the body; GET /_user/replies?user=…&since=N
        → {"replies": [{"seq", "text", "photo"}], "next": N} (what the bot sent since N)."""
        action = request.path.removeprefix("/_user/")
        if action == "text" and request.method == "POST":
            params = request.params()
            user, text = str(params.get("user") or ""), str(params.get("text") or "")
            if not user or not text:
                return HttpReply.json({"error": "user and text are required"}, 400)
            update = self.make_text(user, text)
        elif action == "image" and request.method == "POST":
            user = request.query.get("user", "")
            if not user or not request.body:
                return HttpReply.json({"error": "?user= and the image bytes are required"}, 400)
            update = self.make_image(user, request.body, request.query.get("caption", ""))
        elif action == "replies" and request.method == "GET":
            since = int(request.query.get("since", "0") or 0)
            calls = self.sent(request.query.get("user") or None, since)
            replies = [
                {"seq": c.seq, "text": c.text, "photo": c.params.get("photo") or None}
                for c in calls
            ]
            return HttpReply.json({"replies": replies, "next": self.mark()})
        else:
            return HttpReply.json({"error": "unknown"}, 404)
        self.inject(update)
        return HttpReply.json({"message_id": update["message"]["message_id"]})

    def _error(self, code: int, description: str) -> tuple[JSONDict, int]:
        return {"ok": False, "error_code": code, "description": description}, code

    def _answer(self, method: str, params: JSONDict) -> tuple[JSONDict, int]:
        with self.lock:
            faults = self.faults.get(method)
            if faults:
                code = faults.popleft()
                return self._error(
                    code,
                    {401: "Unauthorized", 429: "Quota exceeded"}.get(code, "Internal server error"),
                )
        if method not in METHODS:
            return self._error(404, "Not found")
        replies = fixture("bot_replies")
        now_ms = int(time.time() * 1000)
        if method == "getMe":
            return replies["getMe"], 200
        if method == "setWebhook":
            url, secret = str(params.get("url", "")), str(params.get("secret_token", ""))
            if not url or not 8 <= len(secret) <= 256:
                return self._error(400, "url and secret_token (8-256 chars) are required")
            with self.lock:
                self.webhook_url, self.webhook_secret = url, secret
            return {"ok": True, "result": {"url": url, "updated_at": now_ms}}, 200
        if method == "deleteWebhook":
            with self.lock:
                self.webhook_url, self.webhook_secret = "", ""
            return {"ok": True, "result": {"url": "", "updated_at": now_ms}}, 200
        if method == "getWebhookInfo":
            return {"ok": True, "result": {"url": self.webhook_url, "updated_at": now_ms}}, 200
        if not str(params.get("chat_id") or ""):
            return self._error(400, "chat_id is required")
        if method == "sendChatAction":
            return {"ok": True}, 200
        if method == "sendMessage":
            text = str(params.get("text") or "")
            if not 1 <= len(text) <= MAX_TEXT:
                return self._error(400, "text must be 1-2000 characters")
        if method == "sendPhoto":
            photo = str(params.get("photo") or "")
            if not photo.startswith(("http://", "https://")):
                return self._error(400, "photo must be a URL")
            if len(str(params.get("caption") or "")) > MAX_TEXT:
                return self._error(400, "caption must be at most 2000 characters")
        with self.lock:
            if self.rate is not None:
                now = time.monotonic()
                while self._sent_times and self._sent_times[0] <= now - 1.0:
                    self._sent_times.popleft()
                if len(self._sent_times) >= self.rate:
                    self.rejected_429 += 1
                    return self._error(429, "Quota exceeded")
                self._sent_times.append(now)
            if self.used >= self.quota:
                self.rejected_429 += 1
                return self._error(429, "Quota exceeded")
            self.used += 1
        result = {"message_id": secrets.token_hex(10), "date": now_ms}
        return {"ok": True, "result": result}, 200

    def _get_updates(self, params: JSONDict) -> HttpReply:
        if self.webhook_url:
            return HttpReply.json(
                {"ok": False, "error_code": 400, "description": "webhook is set"}, 400
            )
        with self.lock:
            faults = self.faults.get("getUpdates")
            if faults:
                code = faults.popleft()
                return HttpReply.json(self._error(code, "Internal server error")[0], code)
        timeout = min(float(params.get("timeout") or 30), self.poll_cap)
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not self.updates:
                left = deadline - time.monotonic()
                if left <= 0:
                    return HttpReply.json(fixture("bot_replies")["error_408"], 200)
                self._arrived.wait(left)
            update = self.updates.popleft()  # at-most-once: gone once handed out
            self.delivered.append(update)
        return HttpReply.json({"ok": True, "result": update})
