"""An in-process fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

Why a real HTTP server instead of mocking ``telegram.Bot``: the bot under test keeps its
production code path (httpx, PTB's request/response parsing, error mapping, timeouts, multipart
uploads), so tests and benchmarks exercise exactly what runs against Telegram.

The server runs in a background thread (``ThreadingHTTPServer``), so it can be driven from sync
tests, async tests and benchmark scripts that run their own event loop. It uses only the standard
library.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import itertools
import json
import math
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from email.message import Message as _HeaderMessage
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at runtime so the server itself needs only the stdlib
    from telegram import Bot
    from telegram.ext import Application, ApplicationBuilder

JSONDict = dict[str, Any]
ChatId = int | str
Predicate = Callable[["Call"], bool] | str

# Telegram limits (https://core.telegram.org/bots/api, https://core.telegram.org/bots/faq).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

#: Methods that deliver a new message; these count towards the rate limits.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)
#: Methods whose successful calls :meth:`FakeBotApi.sent_messages` reports.
MESSAGE_METHODS = SEND_METHODS | {
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
}
#: Update types Telegram leaves out unless explicitly listed in ``allowed_updates``.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Form/multipart values arrive as strings; these parameters must never be coerced to numbers.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "secret_token",
        "ip_address",
        "description",
        "short_description",
        "name",
        "title",
        "language_code",
        "parse_mode",
        "action",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "query",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "custom_emoji_id",
        "first_name",
        "last_name",
        "username",
        "phone_number",
        "address",
        "question",
    }
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """An error answer of the Bot API; raise it from custom methods (see ``add_method``)."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class StoredFile:
    """A file known to the fake server: uploaded by the bot or "sent" by a simulated user."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str | None
    mime_type: str | None
    content: bytes
    source: str  # "bot" (uploaded via multipart) or "user" (injected by a test)
    field: str = ""  # multipart field name for bot uploads

    @property
    def file_size(self) -> int:
        """Size in bytes, as Telegram reports it."""
        return len(self.content)


@dataclass
class Call:
    """One recorded Bot API request; recorded when it is answered."""

    seq: int
    method: str  # canonical spelling, e.g. "sendMessage" (or the raw name when unknown)
    params: JSONDict  # uploaded files appear as StoredFile values
    time: float  # time.time() when the request arrived
    status: int  # HTTP status (0: dropped on purpose by a fault, 499: the client hung up)
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        """True when the request succeeded (HTTP 200)."""
        return self.status == 200

    @property
    def chat_id(self) -> ChatId | None:
        """Target chat, normalised to int when numeric."""
        value = self.params.get("chat_id")
        return None if value is None else _norm_chat_id(value)

    @property
    def text(self) -> str:
        """Message text or caption ("" if none), to keep predicates short."""
        value = self.params.get("text", self.params.get("caption", ""))
        return value if isinstance(value, str) else str(value)

    @property
    def reply_markup(self) -> JSONDict | None:
        """The reply_markup parameter as a dict."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    @property
    def buttons(self) -> list[JSONDict]:
        """Inline keyboard buttons, flattened row by row."""
        return _inline_buttons(self.reply_markup)

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer."""
        return (self.response or {}).get("result")

    @property
    def message_id(self) -> int | None:
        """Id of the sent/edited message."""
        result = self.result
        if isinstance(result, dict) and "message_id" in result:
            return int(result["message_id"])
        value = self.params.get("message_id")
        return int(value) if value is not None else None

    @property
    def files(self) -> dict[str, StoredFile]:
        """Files uploaded (multipart) with this request, by field name."""
        return {k: v for k, v in self.params.items() if isinstance(v, StoredFile)}

    def __repr__(self) -> str:
        extra = f" chat={self.chat_id}" if self.chat_id is not None else ""
        text = self.text
        if text:
            extra += f" text={text[:40]!r}"
        return f"Call(#{self.seq} {self.method} status={self.status}{extra})"


@dataclass
class Fault:
    """A queued failure for ``fail_next``."""

    method: str  # lower-case method name or "*"
    times: int
    status: int
    retry_after: int | None = None
    description: str | None = None
    migrate_to_chat_id: int | None = None
    delay: float = 0.0
    disconnect: bool = False
    chat_id: ChatId | None = None

    def matches(self, method: str, chat_id: ChatId | None) -> bool:
        """Whether this fault applies to a request."""
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or self.chat_id == chat_id


class _ClientGone(Exception):
    """The HTTP client hung up while its request was pending (e.g. a cancelled long poll)."""


_request_context = threading.local()


def _client_alive() -> bool:
    """Peek the current request's socket: EOF means the client closed the connection."""
    conn: socket.socket | None = getattr(_request_context, "connection", None)
    if conn is None:
        return True
    try:
        return conn.recv(1, socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


@dataclass
class _QueuedUpdate:
    update: JSONDict
    update_id: int
    replay: bool  # update_id was already used; only confirmed after it has been delivered
    delivered: bool = False


@dataclass
class _Outcome:
    status: int
    body: bytes | None  # None: drop the connection without answering
    content_type: str = "application/json"


class _DequeMap(dict[ChatId, deque[float]]):
    def __missing__(self, key: ChatId) -> deque[float]:
        value: deque[float] = deque()
        self[key] = value
        return value


def _norm_chat_id(value: Any) -> ChatId:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if _INT_RE.fullmatch(text) else text


def _inline_buttons(markup: JSONDict | None) -> list[JSONDict]:
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _coerce(name: str, value: str) -> Any:
    """Turn a form value back into the JSON value a client meant (Telegram does the same)."""
    if name in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if _INT_RE.fullmatch(stripped):
        return int(stripped)
    if _FLOAT_RE.fullmatch(stripped):
        return float(stripped)
    if stripped in ("true", "false"):
        return stripped == "true"
    return value


def _unquote_param(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    # httpx escapes quotes and control characters as %XX inside quoted params
    return re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m.group(1), 16)), raw)


def _disposition_params(header: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in re.finditer(r';\s*([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', header):
        key, value = match.group(1).lower(), match.group(2)
        if key.endswith("*"):  # RFC 5987: filename*=UTF-8''name
            _, _, encoded = value.strip().strip('"').partition("''")
            params[key[:-1]] = urllib.parse.unquote(encoded)
        else:
            params.setdefault(key, _unquote_param(value))
    return params


def _parse_multipart(
    body: bytes, boundary: str
) -> tuple[dict[str, str], dict[str, tuple[str | None, str | None, bytes]]]:
    """Split a multipart/form-data body into text fields and files (stdlib ``cgi`` is gone)."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str | None, str | None, bytes]] = {}
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition = _disposition_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition or "content-type" in headers:
            files[name] = (disposition.get("filename"), headers.get("content-type"), content)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


# --------------------------------------------------------------------------- formatting checks
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)


class _HtmlChecker(HTMLParser):
    """Rejects what Telegram rejects most often: unsupported tags (``<br>``) and bad nesting."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.text: list[str] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        current = self.lines[line - 1][:col] if self.lines else ""
        prefix = "".join(self.lines[: line - 1]) + current
        return len(prefix.encode("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        if tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._offset()}'
        else:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.error:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._offset()}'

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._offset()}"
        elif self.stack[-1] != tag:
            self.error = (
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self.stack[-1]}>", found "</{tag}>"'
            )
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_html(text: str) -> tuple[str | None, str]:
    checker = _HtmlChecker(text)
    checker.feed(text)
    checker.close()
    if not checker.error and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[0]}"'
    return checker.error, "".join(checker.text)


def _check_markdown_v2(text: str) -> tuple[str | None, str]:
    """Find reserved characters that are never markup and must be escaped with a backslash."""
    plain: list[str] = []
    i, n = 0, len(text)
    in_code = in_pre = in_url = False
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            plain.append(text[i + 1])
            i += 2
            continue
        if in_pre:
            if text.startswith("```", i):
                in_pre = False
                i += 3
                continue
            plain.append(ch)
        elif in_code:
            if ch == "`":
                in_code = False
            else:
                plain.append(ch)
        elif in_url:
            if ch == ")":
                in_url = False
        elif text.startswith("```", i):
            in_pre = True
            i += 3
            continue
        elif ch == "`":
            in_code = True
        elif text.startswith("](", i):
            in_url = True
            i += 2
            continue
        elif (
            ch in "#+-={}."
            or (ch == "!" and not text.startswith("![", i))
            or (ch == ">" and not (i == 0 or text[i - 1] == "\n" or text[i - 2 : i] == "**"))
        ):
            return _reserved(ch), ""
        elif ch not in "_*[]()~|>!":
            plain.append(ch)
        i += 1
    return None, "".join(plain)


def _reserved(ch: str) -> str:
    return f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"


# --------------------------------------------------------------------------- HTTP layer
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive connections must not make stop() hang
    allow_reuse_address = True
    request_queue_size = 1024  # a broadcast opens many connections at once

    def __init__(self, address: tuple[str, int], api: FakeBotApi) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, cancelled long polls) are normal here; stay quiet."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: PTB/httpx reuse connections
    server_version = "FakeBotApi/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one send (avoids Nagle/delayed-ACK stalls)
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.api._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.api._track_connection(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging; the API records calls instead."""

    def do_GET(self) -> None:
        """Bot API methods and file downloads."""
        self._serve()

    def do_POST(self) -> None:
        """Bot API methods."""
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        api = self.server.api
        _request_context.connection = self.connection
        try:
            outcome = api._handle_http(self.command, self.path, self.headers, self._read_body())
        except Exception:  # never let a bug in the fake look like a network problem
            api._report_server_error(traceback.format_exc())
            body = json.dumps(
                {"ok": False, "error_code": 500, "description": "Internal Server Error (fake)"}
            ).encode()
            outcome = _Outcome(500, body)
        if outcome.body is None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(outcome.status)
            self.send_header("Content-Type", outcome.content_type)
            self.send_header("Content-Length", str(len(outcome.body)))
            self.end_headers()
            self.wfile.write(outcome.body)
        except OSError:
            self.close_connection = True


# --------------------------------------------------------------------------- the fake API
class FakeBotApi:
    """A fake Telegram Bot API server with recording, simulated users and fault injection.

    Use as a context manager (``with FakeBotApi() as api``) or call :meth:`start`/:meth:`stop`.
    Point the bot at ``base_url=f"{api.base_url}/bot"``,
    ``base_file_url=f"{api.base_url}/file/bot"`` (or use :meth:`application_builder`).
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "parbot_test_bot",
        bot_first_name: str = "ParBot Test",
        enforce_limits: bool = False,
        global_limit_per_second: int = 30,
        private_chat_limit_per_second: int = 1,
        group_chat_limit_per_minute: int = 20,
        check_formatting: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 1
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.enforce_limits = enforce_limits
        self.global_limit_per_second = global_limit_per_second
        self.private_chat_limit_per_second = private_chat_limit_per_second
        self.group_chat_limit_per_minute = group_chat_limit_per_minute
        self.check_formatting = check_formatting
        self._host = host
        self._port = port

        self._lock = threading.RLock()
        self._updates_cond = threading.Condition(self._lock)
        self._calls_cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

        self._calls: list[Call] = []
        self._next_seq = 1
        self._listeners: list[Callable[[], None]] = []
        self._count_429 = 0
        self.server_errors: list[str] = []

        self._queue: list[_QueuedUpdate] = []
        self._max_update_id = 999  # last allocated update_id
        self._max_queued_id = 0  # highest update_id ever queued
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._webhook: JSONDict = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._users: dict[int, JSONDict] = {}
        self._chats: dict[ChatId, JSONDict] = {}
        self._messages: dict[ChatId, dict[int, JSONDict]] = {}
        self._message_ids: dict[ChatId, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self._faults: list[Fault] = []
        self._blocked: set[ChatId] = set()
        self._missing: set[ChatId] = set()
        self._migrated: dict[ChatId, int] = {}
        self._global_sends: deque[float] = deque()
        self._chat_sends = _DequeMap()

        self._methods: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}
        for name in (
            "getMe",
            "getUpdates",
            "deleteWebhook",
            "setWebhook",
            "getWebhookInfo",
            "setMyCommands",
            "deleteMyCommands",
            "getMyCommands",
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "editMessageCaption",
            "deleteMessage",
            "answerCallbackQuery",
            "sendDocument",
            "sendPhoto",
            "getFile",
            "getChat",
            "sendChatAction",
            "close",
            "logOut",
        ):
            self._methods[name.lower()] = (name, getattr(self, f"_m_{name}"))

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeBotApi:
        """Bind a free port and serve in a daemon thread; returns self for chaining."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotApi:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake long polls and delayed requests, and drop open connections."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        with self._lock:
            self._updates_cond.notify_all()
            connections = list(self._connections)
        server.shutdown()
        server.server_close()
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeBotApi:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the HTTP server is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """Value for PTB's ``base_url``."""
        return f"{self.base_url}/bot"

    @property
    def bot_base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"{self.base_url}/file/bot"

    def application_builder(self) -> ApplicationBuilder:
        """A PTB ``ApplicationBuilder`` already pointed at this server."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.bot_base_url)
            .base_file_url(self.bot_base_file_url)
        )

    def make_bot(self, **kwargs: Any) -> Bot:
        """A bare PTB ``Bot`` pointed at this server (use ``async with bot:``)."""
        from telegram import Bot

        return Bot(
            self.token, base_url=self.bot_base_url, base_file_url=self.bot_base_file_url, **kwargs
        )

    def add_method(self, name: str, func: Callable[[JSONDict], Any]) -> None:
        """Serve an extra Bot API method: ``func(params) -> result``; raise ApiError to fail."""
        self._methods[name.lower()] = (name, func)

    # ----------------------------------------------------------------- recording
    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls, in the order they were answered."""
        with self._lock:
            return list(self._calls)

    @property
    def count_429(self) -> int:
        """How many 429 answers were returned (rate-limit mode and ``fail_next``)."""
        return self._count_429

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method (case-insensitive)."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Call]:
        """Successful send*/edit* calls, in order, optionally for one chat."""
        wanted = None if chat_id is None else _norm_chat_id(chat_id)
        return [
            c
            for c in self.calls
            if c.ok and c.method in MESSAGE_METHODS and (wanted is None or c.chat_id == wanted)
        ]

    def last_message(self, chat_id: ChatId | None = None) -> Call | None:
        """The latest successful send/edit call (to ``chat_id`` if given)."""
        sent = self.sent_messages(chat_id)
        return sent[-1] if sent else None

    def uploaded_files(self) -> list[StoredFile]:
        """Files the bot uploaded in successful calls, in order."""
        return [f for c in self.calls if c.ok for f in c.files.values()]

    def file_content(self, file_id: str) -> bytes:
        """Bytes of any known file (bot upload or user file)."""
        with self._lock:
            return self._files[file_id].content

    def get_file(self, file_id: str) -> StoredFile:
        """Metadata and bytes of any known file."""
        with self._lock:
            return self._files[file_id]

    def get_message(self, chat_id: ChatId, message_id: int) -> JSONDict | None:
        """Current state of a message (after edits), as Telegram would send it."""
        with self._lock:
            msg = self._messages.get(_norm_chat_id(chat_id), {}).get(int(message_id))
            return copy.deepcopy(msg) if msg else None

    def chat_history(self, chat_id: ChatId) -> list[JSONDict]:
        """All live messages of a chat (user and bot), oldest first."""
        with self._lock:
            msgs = self._messages.get(_norm_chat_id(chat_id), {})
            return [copy.deepcopy(msgs[k]) for k in sorted(msgs)]

    def mark(self) -> int:
        """A position to pass as ``since=`` so waits only consider calls recorded from now on."""
        with self._lock:
            return self._next_seq

    def clear(self) -> None:
        """Forget recorded calls, the 429 counter and server errors (chat state is kept)."""
        with self._lock:
            self._calls.clear()
            self._count_429 = 0
            self.server_errors.clear()

    def _calls_from(self, seq: int) -> list[Call]:
        with self._lock:
            start = bisect.bisect_left(self._calls, seq, key=lambda c: c.seq)
            return self._calls[start:]

    @staticmethod
    def _as_predicate(predicate: Predicate) -> Callable[[Call], bool]:
        if isinstance(predicate, str):
            wanted = predicate.lower()
            return lambda c: c.method.lower() == wanted
        return predicate

    def _timeout_message(self, timeout: float) -> str:
        recent = self.calls[-10:]
        return f"no matching call within {timeout}s; last calls: {recent!r}"

    def wait_for(self, predicate: Predicate, timeout: float = 5.0, *, since: int = 0) -> Call:
        """Block until a recorded call matches (method name or ``predicate(call)``); return it.

        Already recorded calls count too (pass ``since=api.mark()`` to skip them). Thread-safe.
        From async code use :meth:`await_for`: blocking there would freeze the bot's own loop.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "wait_for() would block this event loop (and the bot in it); "
                "use `await api.await_for(...)`"
            )
        match = self._as_predicate(predicate)
        deadline = time.monotonic() + timeout
        next_seq = since
        while True:
            new = self._calls_from(next_seq)
            for call in new:
                if match(call):
                    return call
            if new:
                next_seq = new[-1].seq + 1
            with self._calls_cond:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                if self._next_seq <= next_seq:
                    self._calls_cond.wait(remaining)

    async def await_for(
        self, predicate: Predicate, timeout: float = 5.0, *, since: int = 0
    ) -> Call:
        """Async twin of :meth:`wait_for`; cancellable and does not block the event loop."""
        match = self._as_predicate(predicate)
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(event.set)

        with self._lock:
            self._listeners.append(wake)
        try:
            deadline = loop.time() + timeout
            next_seq = since
            while True:
                event.clear()
                new = self._calls_from(next_seq)
                for call in new:
                    if match(call):
                        return call
                if new:
                    next_seq = new[-1].seq + 1
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                with suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._listeners.remove(wake)

    def wait_for_message(
        self,
        chat_id: ChatId | None = None,
        *,
        contains: str | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Call:
        """Wait for a successful send/edit (to ``chat_id``, whose text contains ``contains``)."""
        return self.wait_for(self._message_predicate(chat_id, contains), timeout, since=since)

    async def await_message(
        self,
        chat_id: ChatId | None = None,
        *,
        contains: str | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Call:
        """Async twin of :meth:`wait_for_message`."""
        return await self.await_for(
            self._message_predicate(chat_id, contains), timeout, since=since
        )

    @staticmethod
    def _message_predicate(chat_id: ChatId | None, contains: str | None) -> Callable[[Call], bool]:
        wanted = None if chat_id is None else _norm_chat_id(chat_id)

        def predicate(call: Call) -> bool:
            return (
                call.ok
                and call.method in MESSAGE_METHODS
                and (wanted is None or call.chat_id == wanted)
                and (contains is None or contains in call.text)
            )

        return predicate

    def _record(self, call: Call) -> None:
        with self._calls_cond:
            call.seq = self._next_seq
            self._next_seq += 1
            self._calls.append(call)
            if call.status == 429:
                self._count_429 += 1
            self._calls_cond.notify_all()
            listeners = list(self._listeners)
        for wake in listeners:
            with suppress(RuntimeError):  # the waiter's loop is already closed
                wake()

    def _report_server_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)
        print(f"FakeBotApi internal error:\n{text}", file=sys.stderr)

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ----------------------------------------------------------------- faults and rules
    def fail_next(
        self,
        method: str,
        times: int = 1,
        status: int | None = None,
        retry_after: int = 2,
        *,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        chat_id: ChatId | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` ("*" = any) fail.

        ``status`` defaults to 429, or to 200 when only ``delay`` is given (the request then
        succeeds late, which makes a client with a shorter read timeout raise TimedOut while
        the message is still recorded, like real Telegram). 400 + ``migrate_to_chat_id`` gives
        ChatMigrated; ``disconnect=True`` closes the connection without an answer.
        """
        if status is None:
            status = 200 if (delay > 0 or disconnect) else 429
        fault = Fault(
            method=method.lower(),
            times=times,
            status=status,
            retry_after=retry_after if status == 429 else None,
            description=description,
            migrate_to_chat_id=migrate_to_chat_id,
            delay=delay,
            disconnect=disconnect,
            chat_id=None if chat_id is None else _norm_chat_id(chat_id),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def block_chat(self, chat_id: ChatId) -> None:
        """Every call to this chat answers 403 (user blocked the bot / bot kicked)."""
        with self._lock:
            self._blocked.add(_norm_chat_id(chat_id))

    def unblock_chat(self, chat_id: ChatId) -> None:
        """Undo :meth:`block_chat`."""
        with self._lock:
            self._blocked.discard(_norm_chat_id(chat_id))

    def migrate_chat(self, old_chat_id: ChatId, new_chat_id: int) -> None:
        """Calls to ``old_chat_id`` answer 400 with ``parameters.migrate_to_chat_id``."""
        with self._lock:
            self._migrated[_norm_chat_id(old_chat_id)] = int(new_chat_id)

    def missing_chat(self, chat_id: ChatId) -> None:
        """Calls to this chat answer 400 "Bad Request: chat not found"."""
        with self._lock:
            self._missing.add(_norm_chat_id(chat_id))

    def clear_faults(self) -> None:
        """Remove queued faults and per-chat rules."""
        with self._lock:
            self._faults.clear()
            self._blocked.clear()
            self._missing.clear()
            self._migrated.clear()

    def _take_fault(self, method: str, chat_id: ChatId | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        status = fault.status
        if fault.migrate_to_chat_id is not None:
            return ApiError(
                status,
                fault.description or "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": fault.migrate_to_chat_id},
            )
        if status == 429:
            retry = int(fault.retry_after or 1)
            return ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {retry}",
                {"retry_after": retry},
            )
        defaults = {
            400: "Bad Request: chat not found",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request",
        }
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return ApiError(status, fault.description or defaults.get(status, phrase))

    def _chat_rule_error(self, chat_id: ChatId) -> ApiError | None:
        with self._lock:
            if chat_id in self._blocked:
                is_group = isinstance(chat_id, str) or chat_id < 0
                if is_group:
                    return ApiError(403, "Forbidden: bot was kicked from the group chat")
                return ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id in self._migrated:
                return ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self._migrated[chat_id]},
                )
            if chat_id in self._missing:
                return ApiError(400, "Bad Request: chat not found")
        return None

    def _rate_limit_error(self, chat_id: ChatId | None) -> ApiError | None:
        """Sliding windows: global per second, per private chat per second, per group/minute."""
        now = time.monotonic()
        with self._lock:
            retry = 0.0
            sends = self._global_sends
            while sends and sends[0] <= now - 1.0:
                sends.popleft()
            if len(sends) >= self.global_limit_per_second:
                retry = sends[0] + 1.0 - now
            chat_sends: deque[float] | None = None
            if chat_id is not None:
                is_group = isinstance(chat_id, str) or chat_id < 0
                window = 60.0 if is_group else 1.0
                limit = (
                    self.group_chat_limit_per_minute
                    if is_group
                    else self.private_chat_limit_per_second
                )
                chat_sends = self._chat_sends[chat_id]
                while chat_sends and chat_sends[0] <= now - window:
                    chat_sends.popleft()
                if len(chat_sends) >= limit:
                    retry = max(retry, chat_sends[0] + window - now)
            if retry > 0:
                seconds = max(1, math.ceil(retry))
                return ApiError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
            sends.append(now)
            if chat_sends is not None:
                chat_sends.append(now)
        return None

    # ----------------------------------------------------------------- request dispatch
    def _handle_http(
        self, http_method: str, raw_path: str, headers: _HeaderMessage, body: bytes
    ) -> _Outcome:
        arrived = time.time()
        split = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(split.path)
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :], arrived)
        if not path.startswith("/bot"):
            return self._json(404, ApiError(404, "Not Found").payload())
        token, _, method_name = path[len("/bot") :].partition("/")
        try:
            params = self._parse_params(split.query, headers, body)
        except ValueError as exc:
            error = ApiError(400, f"Bad Request: {exc}")
            return self._finish(method_name, {}, arrived, error.status, error.payload())

        if token != self.token:
            error = ApiError(401, "Unauthorized")
            return self._finish(method_name, params, arrived, 401, error.payload())
        entry = self._methods.get(method_name.lower())
        if entry is None:
            error = ApiError(404, "Not Found")
            return self._finish(method_name, params, arrived, 404, error.payload())
        name, handler = entry
        chat_id = _norm_chat_id(params["chat_id"]) if params.get("chat_id") is not None else None

        fault = self._take_fault(name, chat_id)
        if fault is not None:
            if fault.delay > 0:
                self._stopping.wait(fault.delay)
            if fault.disconnect:
                self._record(Call(0, name, params, arrived, 0, None))
                return _Outcome(0, None)
            if fault.status != 200:
                error = self._fault_error(fault)
                return self._finish(name, params, arrived, error.status, error.payload())

        try:
            if chat_id is not None and (rule := self._chat_rule_error(chat_id)):
                raise rule
            if self.enforce_limits and name in SEND_METHODS:
                limited = self._rate_limit_error(chat_id)
                if limited:
                    raise limited
            result = handler(params)
        except ApiError as error:
            if error.status == 409 and not _client_alive():
                self._record(Call(0, name, params, arrived, 499, None))
                return _Outcome(499, None)
            return self._finish(name, params, arrived, error.status, error.payload())
        except _ClientGone:
            self._record(Call(0, name, params, arrived, 499, None))
            return _Outcome(499, None)
        return self._finish(name, params, arrived, 200, {"ok": True, "result": result})

    def _finish(
        self, method: str, params: JSONDict, arrived: float, status: int, payload: JSONDict
    ) -> _Outcome:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._record(Call(0, method, params, arrived, status, payload))
        return _Outcome(status, body)

    @staticmethod
    def _json(status: int, payload: JSONDict) -> _Outcome:
        return _Outcome(status, json.dumps(payload).encode("utf-8"))

    def _parse_params(self, query: str, headers: _HeaderMessage, body: bytes) -> JSONDict:
        params: JSONDict = {}
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[key] = _coerce(key, value)
        if not body:
            return params
        content_type = headers.get_content_type()
        if content_type == "application/json":
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise ValueError("can't parse JSON object") from exc
            if not isinstance(data, dict):
                raise ValueError("JSON object expected")
            params.update(data)
        elif content_type == "multipart/form-data":
            boundary = headers.get_param("boundary")
            if not isinstance(boundary, str):
                raise ValueError("multipart boundary is missing")
            fields, files = _parse_multipart(body, boundary)
            for key, value in fields.items():
                params[key] = _coerce(key, value)
            for key, (file_name, mime_type, content) in files.items():
                params[key] = self._store_file(
                    kind=key,
                    file_name=file_name,
                    mime_type=mime_type,
                    content=content,
                    source="bot",
                )
        else:  # application/x-www-form-urlencoded (and anything else form-like)
            text = body.decode("utf-8", "replace")
            for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
                params[key] = _coerce(key, value)
        return params

    def _serve_file(self, rest: str, arrived: float) -> _Outcome:
        token, _, file_path = rest.partition("/")
        status = 200
        with self._lock:
            stored = self._files_by_path.get(file_path)
        if token != self.token:
            status, body = 401, ApiError(401, "Unauthorized").payload()
        elif stored is None:
            status, body = 404, ApiError(404, "Not Found").payload()
        self._record(Call(0, "downloadFile", {"file_path": file_path}, arrived, status, None))
        if status != 200 or stored is None:
            return self._json(status, body)
        return _Outcome(200, stored.content, stored.mime_type or "application/octet-stream")

    # ----------------------------------------------------------------- shared state helpers
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram ``User`` (``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _store_file(
        self,
        *,
        kind: str,
        file_name: str | None,
        mime_type: str | None,
        content: bytes,
        source: str,
    ) -> StoredFile:
        folders = {
            "document": ("documents", ""),
            "photo": ("photos", ".jpg"),
            "voice": ("voice", ".oga"),
            "audio": ("music", ".mp3"),
            "video": ("videos", ".mp4"),
            "animation": ("animations", ".mp4"),
            "sticker": ("stickers", ".webp"),
            "video_note": ("video_notes", ".mp4"),
            "thumbnail": ("thumbnails", ".jpg"),
        }
        folder, default_ext = folders.get(kind, ("documents", ""))
        number = next(self._file_counter)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1][:10]
        ext = ext or default_ext
        stored = StoredFile(
            file_id=f"FAKE{kind[:3].upper()}-{number:06d}-{self.bot_id}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{ext}",
            file_name=file_name,
            mime_type=mime_type,
            content=content,
            source=source,
            field=kind if source == "bot" else "",
        )
        self._register_file(stored)
        return stored

    def _register_file(self, stored: StoredFile) -> None:
        with self._lock:
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored

    def _chat(self, chat_id: ChatId) -> JSONDict:
        """Telegram ``Chat`` for an id: registered, a user's private chat, or a default group."""
        with self._lock:
            if chat_id in self._chats:
                return self._chats[chat_id]
            if isinstance(chat_id, str):
                chat = {
                    "id": -1001000000000 - len(self._chats),
                    "type": "channel",
                    "title": chat_id.lstrip("@"),
                    "username": chat_id.lstrip("@"),
                }
            elif chat_id > 0:
                user = self._user(chat_id)
                chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
                for key in ("last_name", "username"):
                    if user.get(key):
                        chat[key] = user[key]
            else:
                kind = "supergroup" if chat_id <= -1000000000000 else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Group {abs(chat_id)}"}
            self._chats[chat_id] = chat
            return chat

    def _user(self, user_id: int) -> JSONDict:
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                user = {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": f"User{user_id}",
                    "username": f"user{user_id}",
                    "language_code": "en",
                }
                self._users[user_id] = user
            return user

    def set_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSONDict:
        """Set a simulated user's profile; ``username=""`` means the user has no username."""
        with self._lock:
            user = dict(self._user(user_id))
            for key, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("username", username),
                ("language_code", language_code),
            ):
                if value == "" and key != "first_name":
                    user.pop(key, None)
                elif value is not None:
                    user[key] = value
            self._users[user_id] = user
            chat = self._chats.get(user_id)
            if chat is None or chat.get("type") == "private":
                self._chats.pop(user_id, None)  # rebuilt from the new profile on demand
            return user

    def set_chat(
        self,
        chat_id: int,
        *,
        type: str = "supergroup",
        title: str | None = None,  # noqa: A002
    ) -> JSONDict:
        """Register a group/supergroup/channel so messages carry its type and title."""
        chat = {"id": int(chat_id), "type": type, "title": title or f"Group {abs(int(chat_id))}"}
        with self._lock:
            self._chats[int(chat_id)] = chat
        return chat

    def _next_message_id(self, chat_key: ChatId) -> int:
        with self._lock:
            value = self._message_ids.get(chat_key, 0) + 1
            self._message_ids[chat_key] = value
            return value

    def _store_message(self, chat_key: ChatId, message: JSONDict) -> None:
        with self._lock:
            self._messages.setdefault(chat_key, {})[message["message_id"]] = message

    def _lookup_message(self, chat_key: ChatId, message_id: Any) -> JSONDict | None:
        with self._lock:
            return self._messages.get(chat_key, {}).get(int(message_id))

    # ----------------------------------------------------------------- validation helpers
    def _require_chat(self, params: JSONDict) -> tuple[ChatId, JSONDict]:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _norm_chat_id(raw)
        chat = self._chat(chat_id)
        return chat["id"], chat

    def _check_text(self, text: str, parse_mode: Any, *, limit: int, what: str) -> None:
        plain = text
        if self.check_formatting and isinstance(parse_mode, str):
            mode = parse_mode.lower()
            error: str | None = None
            if mode == "html":
                error, plain = _check_html(text)
            elif mode == "markdownv2":
                error, plain = _check_markdown_v2(text)
            if error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}")
        if not plain.strip() and what == "message":
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        """Validate and return the markup to echo (Telegram only echoes inline keyboards)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for button in _inline_buttons(markup):
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
        return markup if "inline_keyboard" in markup else None

    def _bot_message(self, params: JSONDict, content: JSONDict) -> JSONDict:
        """Create, store and return a message sent by the bot."""
        chat_key, chat = self._require_chat(params)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id", reply_to)
            allow_missing = allow_missing or bool(
                reply_parameters.get("allow_sending_without_reply")
            )
        replied: JSONDict | None = None
        if reply_to is not None:
            replied = self._lookup_message(chat_key, reply_to)
            if replied is None and not allow_missing:
                raise ApiError(400, "Bad Request: message to be replied not found")
        message: JSONDict = {
            "message_id": self._next_message_id(chat_key),
            "from": self.bot_user(),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        if markup is not None:
            message["reply_markup"] = markup
        self._store_message(chat_key, message)
        return message

    def _caption(self, params: JSONDict) -> JSONDict:
        caption = params.get("caption")
        if caption is None or caption == "":
            return {}
        caption = str(caption)
        self._check_text(
            caption, params.get("parse_mode"), limit=MAX_CAPTION_LENGTH, what="message caption"
        )
        return {"caption": caption}

    def _input_file(self, params: JSONDict, field_name: str) -> StoredFile:
        value = params.get(field_name)
        if isinstance(value, StoredFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            attached = params.get(value[len("attach://") :])
            if isinstance(attached, StoredFile):
                return attached
        if isinstance(value, str) and value:
            with self._lock:
                known = self._files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or None
                return self._store_file(
                    kind=field_name, file_name=name, mime_type=None, content=b"", source="url"
                )
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {field_name} in the request")

    def _document_obj(self, stored: StoredFile) -> JSONDict:
        doc: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    def _photo_sizes(
        self, stored: StoredFile, width: int = 1280, height: int = 960
    ) -> list[JSONDict]:
        """Telegram sends several sizes; the thumbnail here has the same bytes for simplicity."""
        with self._lock:
            thumb_id = f"{stored.file_id}-s"
            if thumb_id not in self._files:
                self._register_file(
                    StoredFile(
                        file_id=thumb_id,
                        file_unique_id=f"{stored.file_unique_id}s",
                        file_path=f"{stored.file_path.rsplit('.', 1)[0]}_s.jpg",
                        file_name=None,
                        mime_type="image/jpeg",
                        content=stored.content,
                        source=stored.source,
                    )
                )
        scale = 90 / max(width, height, 1)
        return [
            {
                "file_id": thumb_id,
                "file_unique_id": f"{stored.file_unique_id}s",
                "file_size": stored.file_size,
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size,
                "width": width,
                "height": height,
            },
        ]

    # ----------------------------------------------------------------- Bot API methods
    def _m_getMe(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._updates_cond:
            if self._webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self._allowed_updates = [str(x) for x in allowed]
            self._poll_generation += 1
            generation = self._poll_generation
            self._updates_cond.notify_all()  # terminates an older long poll, like Telegram
            self._confirm(offset)
            while True:
                if self._poll_generation != generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    break
                self._updates_cond.wait(remaining)
            if not _client_alive():  # nothing reaches a cancelled poll: do not mark delivered
                raise _ClientGone
            for entry in batch:
                entry.delivered = True
            return [entry.update for entry in batch]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            del self._queue[: max(0, len(self._queue) + offset)]
        elif offset > 0:
            self._queue = [
                e
                for e in self._queue
                if not (e.update_id < offset and (e.delivered or not e.replay))
            ]

    def _allowed(self, update: JSONDict) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATE_TYPES

    def _deliverable(self, limit: int) -> list[_QueuedUpdate]:
        # Updates the bot did not subscribe to are never produced by Telegram: drop them.
        self._queue = [e for e in self._queue if self._allowed(e.update)]
        batch: list[_QueuedUpdate] = []
        for entry in self._queue:
            if entry.replay:  # a re-used update_id travels alone so the offset logic stays sane
                if not batch:
                    batch.append(entry)
                break
            batch.append(entry)
            if len(batch) >= limit:
                break
        return batch

    def _m_deleteWebhook(self, params: JSONDict) -> bool:
        with self._lock:
            self._webhook = {}
            if params.get("drop_pending_updates"):
                self._queue.clear()
        return True

    def _m_setWebhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        with self._lock:
            if params.get("drop_pending_updates"):
                self._queue.clear()
            if not url:
                self._webhook = {}
                return True
            if not url.startswith("https://") and not url.startswith("http://"):
                raise ApiError(400, "Bad Request: bad webhook: invalid URL")
            self._webhook = {k: v for k, v in params.items() if not isinstance(v, StoredFile)}
            self._webhook["has_custom_certificate"] = isinstance(
                params.get("certificate"), StoredFile
            )
        return True

    @property
    def webhook(self) -> JSONDict:
        """Parameters of the last successful setWebhook ({} when none is set)."""
        with self._lock:
            return dict(self._webhook)

    def _m_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": bool(self._webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._queue),
            }
            if self._webhook.get("url"):
                info["max_connections"] = int(self._webhook.get("max_connections") or 40)
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
                if isinstance(self._webhook.get("allowed_updates"), list):
                    info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_setMyCommands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        cleaned: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict) or not _COMMAND_RE.fullmatch(str(item.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(item.get("description") or "")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": item["command"], "description": description})
        with self._lock:
            self._commands[self._commands_key(params)] = cleaned
        return True

    def _m_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        with self._lock:
            return list(self._commands.get(self._commands_key(params), []))

    def _m_deleteMyCommands(self, params: JSONDict) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands currently set for a scope (default scope if omitted)."""
        params: JSONDict = {"scope": scope, "language_code": language_code}
        return self._m_getMyCommands(params)

    def _m_sendMessage(self, params: JSONDict) -> JSONDict:
        self._require_chat(params)
        text = params.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            raise ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        self._check_text(text, params.get("parse_mode"), limit=MAX_TEXT_LENGTH, what="message")
        content: JSONDict = {"text": text}
        if isinstance(params.get("entities"), list):
            content["entities"] = params["entities"]
        return self._bot_message(params, content)

    def _editable(self, params: JSONDict) -> tuple[ChatId, JSONDict] | None:
        """The stored message an edit targets, or None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_key, _ = self._require_chat(params)
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self._lookup_message(chat_key, params["message_id"])
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_key, message

    def _replace_message(
        self,
        chat_key: ChatId,
        old: JSONDict,
        changes: JSONDict,
        markup: JSONDict | None,
        remove: tuple[str, ...] = (),
    ) -> JSONDict:
        """Store an edited copy (stored dicts are never mutated: answers are encoded unlocked)."""
        new = {k: v for k, v in old.items() if k not in remove and k != "reply_markup"}
        new.update(changes)
        if markup is not None:
            new["reply_markup"] = markup
        comparable = ("text", "caption", "reply_markup")
        if all(old.get(k) == new.get(k) for k in comparable):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        new["edit_date"] = int(time.time())
        self._store_message(chat_key, new)
        return new

    def _m_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            raise ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        self._check_text(text, params.get("parse_mode"), limit=MAX_TEXT_LENGTH, what="message")
        markup = self._check_markup(params.get("reply_markup"))
        target = self._editable(params)
        if target is None:
            return True
        chat_key, message = target
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        with self._lock:
            return self._replace_message(chat_key, message, {"text": text}, markup)

    def _m_editMessageCaption(self, params: JSONDict) -> JSONDict | bool:
        caption = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        target = self._editable(params)
        if target is None:
            return True
        chat_key, message = target
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        with self._lock:
            return self._replace_message(chat_key, message, caption, markup, remove=("caption",))

    def _m_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        markup = self._check_markup(params.get("reply_markup"))
        target = self._editable(params)
        if target is None:
            return True
        chat_key, message = target
        with self._lock:
            return self._replace_message(chat_key, message, {}, markup)

    def _m_deleteMessage(self, params: JSONDict) -> bool:
        chat_key, _ = self._require_chat(params)
        with self._lock:
            messages = self._messages.get(chat_key, {})
            if messages.pop(int(params.get("message_id") or 0), None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _m_answerCallbackQuery(self, params: JSONDict) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_sendDocument(self, params: JSONDict) -> JSONDict:
        self._require_chat(params)
        stored = self._input_file(params, "document")
        content = {"document": self._document_obj(stored), **self._caption(params)}
        return self._bot_message(params, content)

    def _m_sendPhoto(self, params: JSONDict) -> JSONDict:
        self._require_chat(params)
        stored = self._input_file(params, "photo")
        content = {"photo": self._photo_sizes(stored), **self._caption(params)}
        return self._bot_message(params, content)

    def _m_getFile(self, params: JSONDict) -> JSONDict:
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _m_getChat(self, params: JSONDict) -> JSONDict:
        _, chat = self._require_chat(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_sendChatAction(self, params: JSONDict) -> bool:
        self._require_chat(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _m_close(self, params: JSONDict) -> bool:
        return True

    def _m_logOut(self, params: JSONDict) -> bool:
        return True

    # ----------------------------------------------------------------- simulated users
    def _next_update_id(self) -> int:
        with self._lock:
            self._max_update_id += 1
            return self._max_update_id

    def _user_context(
        self,
        user_id: int,
        chat_id: ChatId | None,
        profile: JSONDict,
    ) -> tuple[JSONDict, ChatId, JSONDict]:
        if any(v is not None for v in profile.values()):
            self.set_user(user_id, **profile)
        user = dict(self._user(user_id))
        chat = self._chat(user_id if chat_id is None else _norm_chat_id(chat_id))
        return user, chat["id"], chat

    def _user_message(
        self,
        user_id: int,
        chat_id: ChatId | None,
        content: JSONDict,
        profile: JSONDict,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Build an update carrying a new user message and remember the message."""
        user, chat_key, chat = self._user_context(user_id, chat_id, profile)
        message: JSONDict = {
            "message_id": self._next_message_id(chat_key),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to_message_id is not None:
            replied = self._lookup_message(chat_key, reply_to_message_id)
            if replied is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat_key}")
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        self._store_message(chat_key, message)
        return {"update_id": self._next_update_id(), "message": copy.deepcopy(message)}

    def make_text(
        self,
        user_id: int,
        text: str,
        chat_id: ChatId | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Build (not queue) a text-message update; ``/commands`` get a bot_command entity."""
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        profile = {"first_name": first_name, "last_name": last_name, "username": username}
        return self._user_message(user_id, chat_id, content, profile, reply_to_message_id)

    def make_command(
        self,
        user_id: int,
        command: str,
        args: str | Sequence[str] | None = None,
        chat_id: ChatId | None = None,
        **profile: Any,
    ) -> JSONDict:
        """Build (not queue) ``/command args``; deep links are ``("start", "CODE")``."""
        text = "/" + command.lstrip("/")
        if args:
            text += " " + (args if isinstance(args, str) else " ".join(args))
        return self.make_text(user_id, text, chat_id, **profile)

    def make_button_press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: ChatId | None = None,
        **profile: Any,
    ) -> JSONDict:
        """Build (not queue) a callback_query for a button on a stored message."""
        user, chat_key, _ = self._user_context(user_id, chat_id, profile)
        message = self._lookup_message(chat_key, message_id)
        if message is None:
            known = sorted(self._messages.get(chat_key, {}))
            raise LookupError(f"no message {message_id} in chat {chat_key}; known: {known}")
        query = {
            "id": f"{user_id}{next(self._callback_counter):08d}",
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(hash(("chat", chat_key))) % 10**18),
            "data": callback_data,
        }
        return {"update_id": self._next_update_id(), "callback_query": query}

    def make_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat_id: ChatId | None = None,
        *,
        caption: str | None = None,
        **profile: Any,
    ) -> JSONDict:
        """Build (not queue) a document message; the bot can getFile + download the bytes."""
        stored = self._store_file(
            kind="document",
            file_name=file_name,
            mime_type=mime_type,
            content=content,
            source="user",
        )
        body: JSONDict = {"document": self._document_obj(stored)}
        if caption:
            body["caption"] = caption
        return self._user_message(user_id, chat_id, body, profile)

    def make_photo(
        self,
        user_id: int,
        content: bytes,
        chat_id: ChatId | None = None,
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        **profile: Any,
    ) -> JSONDict:
        """Build (not queue) a photo message (two PhotoSizes, the last is the largest)."""
        stored = self._store_file(
            kind="photo", file_name=None, mime_type="image/jpeg", content=content, source="user"
        )
        body: JSONDict = {"photo": self._photo_sizes(stored, width, height)}
        if caption:
            body["caption"] = caption
        return self._user_message(user_id, chat_id, body, profile)

    def make_sticker(
        self, user_id: int, chat_id: ChatId | None = None, *, emoji: str = "👍", **profile: Any
    ) -> JSONDict:
        """Build (not queue) a sticker message: content a text-only bot must cope with."""
        stored = self._store_file(
            kind="sticker",
            file_name=None,
            mime_type="image/webp",
            content=b"RIFF\0\0\0\0WEBP",
            source="user",
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return self._user_message(user_id, chat_id, {"sticker": sticker}, profile)

    def make_voice(
        self,
        user_id: int,
        chat_id: ChatId | None = None,
        *,
        content: bytes = b"OggS\0fake-voice",
        duration: int = 3,
        **profile: Any,
    ) -> JSONDict:
        """Build (not queue) a voice message."""
        stored = self._store_file(
            kind="voice", file_name=None, mime_type="audio/ogg", content=content, source="user"
        )
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return self._user_message(user_id, chat_id, {"voice": voice}, profile)

    def make_update(self, kind: str, *args: Any, **kwargs: Any) -> JSONDict:
        """Generic builder: kind is text|command|button|document|photo|sticker|voice."""
        builders: dict[str, Callable[..., JSONDict]] = {
            "text": self.make_text,
            "command": self.make_command,
            "button": self.make_button_press,
            "callback_query": self.make_button_press,
            "document": self.make_document,
            "photo": self.make_photo,
            "sticker": self.make_sticker,
            "voice": self.make_voice,
        }
        return builders[kind](*args, **kwargs)

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update for getUpdates; re-injecting a used update_id delivers it again."""
        with self._updates_cond:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id()
            update_id = int(update["update_id"])
            # An id not above everything queued so far would be swallowed by the bot's offset
            # confirmation; such "replays" are delivered alone and confirmed only once delivered.
            replay = update_id <= self._max_queued_id
            self._max_queued_id = max(self._max_queued_id, update_id)
            self._max_update_id = max(self._max_update_id, update_id)
            self._queue.append(_QueuedUpdate(update, update_id, replay))
            self._remember_injected_message(update)
            self._updates_cond.notify_all()
        return update

    def _remember_injected_message(self, update: JSONDict) -> None:
        """Hand-made updates: store their message so the bot can reply to it or edit around it."""
        message = update.get("message") or update.get("channel_post")
        if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
            return
        try:
            chat_key = _norm_chat_id(message["chat"]["id"])
            message_id = int(message["message_id"])
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            self._chats.setdefault(chat_key, message["chat"])
            self._messages.setdefault(chat_key, {}).setdefault(message_id, message)
            self._message_ids[chat_key] = max(self._message_ids.get(chat_key, 0), message_id)

    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by the bot."""
        with self._lock:
            return [e.update for e in self._queue]

    def user_text(
        self,
        user_id: int,
        text: str,
        chat_id: ChatId | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user sends ``text`` (private chat with chat.id == user_id unless chat_id given)."""
        return self.inject(
            self.make_text(
                user_id,
                text,
                chat_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                reply_to_message_id=reply_to_message_id,
            )
        )

    def user_command(
        self,
        user_id: int,
        command: str,
        args: str | Sequence[str] | None = None,
        chat_id: ChatId | None = None,
        **profile: Any,
    ) -> JSONDict:
        """A user sends ``/command args``."""
        return self.inject(self.make_command(user_id, command, args, chat_id, **profile))

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: ChatId | None = None,
        **profile: Any,
    ) -> JSONDict:
        """A user presses an inline button of the bot's message ``message_id``."""
        return self.inject(
            self.make_button_press(user_id, message_id, callback_data, chat_id, **profile)
        )

    def user_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat_id: ChatId | None = None,
        *,
        caption: str | None = None,
        **profile: Any,
    ) -> JSONDict:
        """A user sends a file."""
        return self.inject(
            self.make_document(
                user_id, file_name, content, mime_type, chat_id, caption=caption, **profile
            )
        )

    def user_photo(
        self,
        user_id: int,
        content: bytes,
        chat_id: ChatId | None = None,
        *,
        caption: str | None = None,
        **profile: Any,
    ) -> JSONDict:
        """A user sends a photo."""
        return self.inject(self.make_photo(user_id, content, chat_id, caption=caption, **profile))

    def user_sticker(self, user_id: int, chat_id: ChatId | None = None, **kwargs: Any) -> JSONDict:
        """A user sends a sticker."""
        return self.inject(self.make_sticker(user_id, chat_id, **kwargs))

    def user_voice(self, user_id: int, chat_id: ChatId | None = None, **kwargs: Any) -> JSONDict:
        """A user sends a voice note."""
        return self.inject(self.make_voice(user_id, chat_id, **kwargs))

    def buttons(self, chat_id: ChatId, message_id: int) -> list[JSONDict]:
        """Inline buttons currently on a stored message, flattened."""
        message = self.get_message(chat_id, message_id)
        return _inline_buttons((message or {}).get("reply_markup"))


@asynccontextmanager
async def running_application(
    app: Application, *, poll_timeout: float = 1.0, drop_pending_updates: bool = False
) -> AsyncIterator[Application]:
    """Run a PTB Application with polling for the duration of the block, then stop it cleanly."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=int(poll_timeout), drop_pending_updates=drop_pending_updates
        )
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()


def iter_chats(calls: Iterable[Call]) -> list[ChatId]:
    """Distinct chat ids of calls, in first-seen order (handy for broadcast assertions)."""
    seen: dict[ChatId, None] = {}
    for call in calls:
        if call.chat_id is not None:
            seen.setdefault(call.chat_id, None)
    return list(seen)
