"""A tiny threaded HTTP server on 127.0.0.1 that hands every request to a fake's `handle`.

Stdlib only, in a background thread, so sync tests, async tests and the benchmark can all
drive it (the same reason as tests/fakes/botapi).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSONDict = dict[str, Any]


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def params(self) -> JSONDict:
        """Query string, form, JSON or multipart fields, like the Bot Platform accepts."""
        params: JSONDict = dict(self.query)
        kind = self.headers.get("content-type", "")
        if not self.body:
            return params
        if kind.startswith("application/json"):
            params.update(json.loads(self.body))
        elif kind.startswith("application/x-www-form-urlencoded"):
            params.update(dict(urllib.parse.parse_qsl(self.body.decode())))
        elif kind.startswith("multipart/form-data"):
            params.update(parse_multipart(self.body, kind))
        return params


@dataclass
class HttpReply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: object, status: int = 200) -> HttpReply:
        return cls(status, json.dumps(data, ensure_ascii=False).encode())


def parse_multipart(body: bytes, content_type: str) -> JSONDict:
    """Fields of a multipart body; a file part becomes {"filename", "content", "type"}."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: JSONDict = {}
    for part in body.split(b"--" + boundary):
        if b"\r\n\r\n" not in part:
            continue
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        disposition = next((h for h in lines if h.lower().startswith("content-disposition")), "")
        attrs = dict(
            item.strip().split("=", 1) for item in disposition.split(";")[1:] if "=" in item
        )
        name = attrs.get("name", "").strip('"')
        if "filename" in attrs:
            mime = next(
                (h.split(":", 1)[1].strip() for h in lines if h.lower().startswith("content-type")),
                "application/octet-stream",
            )
            fields[name] = {
                "filename": attrs["filename"].strip('"'),
                "content": value,
                "type": mime,
            }
        else:
            fields[name] = value.decode()
    return fields


class FakeServer:
    """Start/stop a ThreadingHTTPServer that calls `self.handle(request)`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def handle(self, request: HttpRequest) -> HttpReply:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                request = HttpRequest(
                    self.command,
                    parsed.path,
                    dict(urllib.parse.parse_qsl(parsed.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                try:
                    reply = fake.handle(request)
                except Exception as exc:  # a bug in the fake must show, not hang the client
                    reply = HttpReply.json({"ok": False, "description": repr(exc)}, 500)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
