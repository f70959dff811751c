"""Decompression bombs built in a second: zip archives whose members inflate to gigabytes.

A deflate stream of zeros is the same block again and again, so one megabyte of zeros is
compressed once (ended with a full flush, which makes the block independent of what came
before) and the block is repeated; the zip around it is written by hand (local headers,
central directory), because `zipfile` would compress the whole gigabyte itself (20 s).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

MB = 1024 * 1024


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _zeros_stream(megabytes: int) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, inflated size) of `megabytes` MB of zeros."""
    chunk = bytes(MB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    return first + block * (megabytes - 1) + tail, crc, megabytes * MB


def write_zip(path: Path, small: dict[str, bytes], bomb_name: str, megabytes: int) -> Path:
    """A zip holding `small` members and one member `bomb_name` of `megabytes` MB of zeros."""
    entries: list[tuple[str, bytes, int, int]] = [
        (name, _deflate(data), zlib.crc32(data), len(data)) for name, data in small.items()
    ]
    entries.append((bomb_name, *_zeros_stream(megabytes)))
    local, central = bytearray(), bytearray()
    for name, stream, crc, size in entries:
        raw = name.encode()
        offset = len(local)
        local += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(stream), size, len(raw), 0
        )
        local += raw + stream
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(stream),
            size,
            len(raw),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0
    )
    path.write_bytes(bytes(local) + bytes(central) + end)
    return path


def docx_bomb(path: Path, megabytes: int = 1024) -> Path:
    """A .docx whose word/document.xml inflates to `megabytes` MB."""
    types = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    return write_zip(path, {"[Content_Types].xml": types}, "word/document.xml", megabytes)


def xlsx_bomb(path: Path, megabytes: int = 1024) -> Path:
    """An .xlsx whose first sheet inflates to `megabytes` MB."""
    types = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    return write_zip(
        path,
        {"[Content_Types].xml": types, "xl/workbook.xml": b"<workbook/>"},
        "xl/worksheets/sheet1.xml",
        megabytes,
    )
