"""The boundary rules in core: text sanitising, invisible-only answers, file names, and
evidence checked by content (including a 1 GB bomb named .docx)."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest

from core.commands import InputKind, Request
from core.conversation import IncomingFile
from core.evidence import content_problem, safe_file_name
from core.inbound import clean_request
from core.text import clean, is_blank, sanitize
from tests.support.bombs import docx_bomb

PDF = b"%PDF-1.7\n..."
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)
JPEG = b"\xff\xd8\xff\xe0" + bytes(20)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(20)
EXE = b"MZ\x90\x00" + bytes(60)


def office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<w:document/>")
    return buffer.getvalue()


def test_controls_are_removed_and_text_is_nfc():
    raw = "Kết\x00 quả\x07\r\nđạt\u202e 95%\ufeff\x7f\x85\ud800"
    assert sanitize(raw) == "Kết quả\nđạt 95%"
    assert sanitize("\tthụt\tlề\n") == "\tthụt\tlề\n"  # tab and newline are kept
    assert sanitize(unicodedata.normalize("NFD", "Sở Nội vụ")) == "Sở Nội vụ"
    assert clean("Sở\x00 Tư pháp\u2066") == "Sở Tư pháp"  # what plan imports store


@pytest.mark.parametrize(
    "text", ["\u200c", "\u200d\u200c", "\u2060", "\u202e", "\ufeff", "\u00ad", " \u3164 ", "\x00"]
)
def test_invisible_only_text_is_blank(text):
    assert is_blank(text) and is_blank(sanitize(text))


def test_visible_text_with_joiners_is_not_blank():
    assert not is_blank("a\u200c") and not is_blank("👍\u200d") and not is_blank("đ")


def test_long_names_are_shortened_keeping_the_extension():
    name = "Biên bản họp " * 40 + ".docx"
    short = safe_file_name(name)
    assert short.endswith(".docx") and len(short.encode()) <= 255
    assert short.startswith("Biên bản họp")
    assert safe_file_name("../../etc/pass\x00wd.pdf") == ".._.._etc_passwd.pdf"
    assert safe_file_name("\x00\u202e") == "tep"


def test_every_string_of_a_request_is_cleaned_and_counted():
    request = Request(
        "telegram",
        "1",
        "1",
        InputKind.FILE,
        text="a\x00",
        display_name="Lan\x00",
        file=IncomingFile("x\x00.pdf", "application/pdf\x00", 3, PDF),
    )
    cleaned, removed = clean_request(request)
    assert (cleaned.text, cleaned.display_name, cleaned.file.file_name) == ("a", "Lan", "x.pdf")
    assert cleaned.file.mime_type == "application/pdf"
    assert removed == {"text": 1, "display_name": 1, "file_name": 1}
    assert clean_request(Request("telegram", "1", "1", InputKind.TEXT, text="ổn"))[1] == {}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bien-ban.pdf", PDF, None),
        ("bien-ban.pdf", b"\r\n" + PDF, None),  # a little junk before the header is allowed
        ("bien-ban.pdf", EXE, "mismatch"),
        ("bao-cao.doc", OLE, None),
        ("bao-cao.xls", OLE, None),
        ("bao-cao.doc", PDF, "mismatch"),
        ("bao-cao.docx", office("word/"), None),
        ("bang.xlsx", office("xl/"), None),
        ("bang.xlsx", office("word/"), "mismatch"),
        ("goi.zip", office("word/"), None),
        ("bao-cao.docx", EXE, "mismatch"),
        ("anh.jpg", JPEG, None),
        ("anh.png", PNG, None),
        ("anh.png", JPEG, None),  # a photo with the other image extension is still a photo
        ("anh.jpg", EXE, "mismatch"),
        ("setup.exe", EXE, "mismatch"),
    ],
)
def test_evidence_is_checked_by_content(name, content, problem):
    assert content_problem(name, content) == problem


def test_a_one_gigabyte_bomb_named_docx_is_refused_as_evidence(tmp_path):
    bomb = docx_bomb(tmp_path / "bom.docx").read_bytes()
    assert len(bomb) < 2 * 1024 * 1024
    assert content_problem("bao-cao.docx", bomb) == "archive"
    assert content_problem("goi.zip", bomb) == "archive"
