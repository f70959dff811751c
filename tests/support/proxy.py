"""A tiny forward proxy on 127.0.0.1 that counts what passes through it (outbound proxy tests).

Plain HTTP requests in absolute form (`POST http://127.0.0.1:4321/bot…/sendMessage`) are
forwarded one by one — each answered in full before the next is read, so keep-alive clients
work — and `CONNECT host:port` opens a tunnel. `requests` lists "METHOD target" of everything
seen. Bodies are read by Content-Length (what the platform clients send).
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse


async def _head(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str]] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return raw, headers


class CountingProxy:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    def seen(self, fragment: str) -> int:
        return sum(1 for line in self.requests if fragment in line)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (head := await _head(reader)) is not None:
                raw, headers = head
                method, target, _ = raw.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
                self.requests.append(f"{method} {target}")
                if method == "CONNECT":
                    await self._tunnel(target, reader, writer)
                    return
                await self._forward(raw, headers, target, reader, writer)
        finally:
            writer.close()

    async def _forward(
        self,
        raw: bytes,
        headers: dict[str, str],
        target: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        url = urllib.parse.urlsplit(target)
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        try:
            up_writer.write(raw + body)
            await up_writer.drain()
            answer = await _head(up_reader)
            assert answer is not None, "upstream closed without answering"
            answer_raw, answer_headers = answer
            length = int(answer_headers.get("content-length", "0") or 0)
            writer.write(answer_raw + await up_reader.readexactly(length))
            await writer.drain()
        finally:
            up_writer.close()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
