"""A streaming multipart/form-data reader with limits enforced as the bytes arrive.

`request.form()` spools every part before the route sees it; here each chunk of the body goes
through python-multipart's push parser and the size limits are checked on every chunk, so an
upload over the limit stops at the limit (and the connection is answered 413) instead of being
read whole. Text fields are small (4 KB); files are kept in memory up to `max_file_bytes` each,
at most `max_files` of them — the same limits as chat files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

FIELD_CAP = 4096


class FormTooLarge(Exception):
    """A file passed the size limit, or too many files or fields were sent."""

    def __init__(self, what: str, name: str = "") -> None:
        super().__init__(what)
        self.what = what  # "file" | "files" | "field"
        self.name = name


class BadForm(Exception):
    """Not multipart/form-data, or broken."""


@dataclass
class UploadedFile:
    field: str
    file_name: str
    mime_type: str
    content: bytearray = dataclasses.field(default_factory=bytearray)


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)


async def read_multipart(
    content_type: str,
    chunks: AsyncIterator[bytes],
    *,
    max_file_bytes: int,
    max_files: int,
    max_fields: int = 20,
) -> Form:
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadForm("not multipart/form-data")
    form = Form()
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    current: dict[str, object] = {}
    problems: list[FormTooLarge] = []

    def on_part_begin() -> None:
        headers.clear()
        current.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        if filename is not None:
            if len(form.files) >= max_files:
                problems.append(FormTooLarge("files"))
                return
            upload = UploadedFile(
                name,
                filename.decode("utf-8", "replace"),
                headers.get(b"content-type", b"application/octet-stream").decode("latin-1"),
            )
            form.files.append(upload)
            current["file"] = upload
        else:
            if len(form.fields) >= max_fields:
                problems.append(FormTooLarge("field"))
                return
            current["field"] = name
            current["value"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        upload = current.get("file")
        if isinstance(upload, UploadedFile):
            if len(upload.content) + (end - start) > max_file_bytes:
                problems.append(FormTooLarge("file", upload.file_name))
                return
            upload.content.extend(data[start:end])
            return
        value = current.get("value")
        if isinstance(value, bytearray):
            if len(value) + (end - start) > FIELD_CAP:
                problems.append(FormTooLarge("field"))
                return
            value.extend(data[start:end])

    def on_part_end() -> None:
        name, value = current.get("field"), current.get("value")
        if isinstance(name, str) and isinstance(value, bytearray):
            form.fields[name] = value.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
            if problems:
                raise problems[0]
        parser.finalize()
    except FormTooLarge:
        raise
    except Exception as exc:  # the parser's own errors: a broken body
        raise BadForm(str(exc)) from exc
    if problems:
        raise problems[0]
    return form
