"""Hostile plan files: decompression bombs, huge CSV cells, the encodings Excel writes."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest

from core.archives import ArchiveRefused, ZipLimits, inspect_zip
from storage.importers import ImportFileError, read_plan
from tests.bot.cli.test_plan import snapshot
from tests.support.bombs import docx_bomb, xlsx_bomb
from tests.support.plan_files import variant_rows, write_csv

ROOT = Path(__file__).resolve().parents[3]
RSS_BOUND_MB = 300  # peak RSS of `parbot plan import` refusing a 1 GB bomb

# Measure the child's peak RSS from a wrapper process of its own, so that nothing else this
# test process ran counts.
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{done.returncode}\\n{peak_kb}\\n{done.stdout}{done.stderr}")
"""


def import_in_child(engine, path: Path) -> tuple[int, float, str]:
    """(exit code, peak RSS in MB, output) of a real `parbot plan import` process."""
    parbot = Path(sys.executable).with_name("parbot")
    env = {**os.environ, "PARBOT_DATABASE_URL": engine.url.render_as_string(False)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(parbot), "plan", "import", str(path), "--code", "X"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    code, peak_kb, output = done.stdout.split("\n", 2)
    return int(code), int(peak_kb) / 1024, output


@pytest.mark.parametrize("build", [docx_bomb, xlsx_bomb], ids=["docx", "xlsx"])
def test_a_one_gigabyte_bomb_is_refused_before_parsing_with_bounded_memory(
    any_engine, tmp_path, build
):
    bomb = build(tmp_path / f"phu-luc.{build.__name__[:4]}")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with zipfile.ZipFile(bomb) as archive:
        assert sum(i.file_size for i in archive.infolist()) >= 1024**3
    before = snapshot(any_engine)
    code, peak_mb, output = import_in_child(any_engine, bomb)
    assert code != 0
    assert "bom nén" in output and "vượt 64 MB" in output
    assert "Traceback" not in output
    assert peak_mb < RSS_BOUND_MB, f"peak RSS {peak_mb:.0f} MB"
    assert snapshot(any_engine) == before
    print(f"peak RSS of the refusing child: {peak_mb:.0f} MB")


def test_zip_limits_refuse_many_members_and_high_ratios(tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(50):
            archive.writestr(f"m{n}.xml", "x")
    with pytest.raises(ArchiveRefused) as refused:
        inspect_zip(many, ZipLimits(max_members=20))
    assert refused.value.reason == "members"
    dense = tmp_path / "dense.zip"
    with zipfile.ZipFile(dense, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (3 * 1024 * 1024))
    with pytest.raises(ArchiveRefused) as refused:
        inspect_zip(dense)
    assert refused.value.reason == "ratio"
    assert inspect_zip(dense, ZipLimits(max_ratio=10_000)).members == 1


def test_a_200_kb_cell_imports_and_keeps_its_text(seed_dir, tmp_path):
    rows = variant_rows(seed_dir)
    output = rows[0].index("Sản phẩm")
    rows[3][output] = "Báo cáo chi tiết. " * 11_500  # ≈ 207,000 characters
    assert len(rows[3][output]) > 200_000
    draft = read_plan(write_csv(rows, tmp_path / "o-lon.csv"))
    assert len(draft.tasks) == 69
    assert max(len(t.expected_output) for t in draft.tasks) > 200_000


def _cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258 as Excel writes it: base letters (ê, ơ, ư, đ…) precomposed,
    tone marks as combining characters."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for index, mark in enumerate(marks):  # the mark that makes ê, ơ, ư, ă… with the base
            letter = unicodedata.normalize("NFC", base + mark)
            if len(letter) == 1 and letter.encode("cp1258", "ignore"):
                base, marks = letter, marks[:index] + marks[index + 1 :]
                break
        out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def _tab_text(rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        if any(c in value for c in '\t\n"'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "\r\n".join("\t".join(cell(c) for c in row) for row in rows) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8", "utf-8-sig", "cp1258"])
def test_excel_encodings_give_the_same_vietnamese_tasks(seed_dir, tmp_path, encoding):
    rows = variant_rows(seed_dir)
    expected = read_plan(write_csv(rows, tmp_path / "goc.csv"))
    text = _tab_text(rows)
    raw = _cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    if encoding == "cp1258":
        assert b"\xec" in raw or b"\xf2" in raw  # tone marks written as combining bytes
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    path = tmp_path / f"unicode-text-{encoding}.csv"
    path.write_bytes(raw)
    draft = read_plan(path)
    assert [t.title for t in draft.tasks] == [t.title for t in expected.tasks]
    assert [t.lead_text for t in draft.tasks] == [t.lead_text for t in expected.tasks]
    assert any("Sở Nội vụ" in t.lead_text for t in draft.tasks)
    # .txt (Excel "Unicode text" saved with that extension) reads the same way
    txt = path.with_suffix(".txt")
    txt.write_bytes(raw)
    assert [t.title for t in read_plan(txt).tasks] == [t.title for t in expected.tasks]


def test_damaged_utf16_and_binary_csv_get_a_message(tmp_path):
    broken = tmp_path / "hong.csv"
    broken.write_bytes(b"\xff\xfe" + "STT\tNhiệm vụ".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(ImportFileError, match="UTF-16"):
        read_plan(broken)
    binary = tmp_path / "nhi-phan.csv"
    binary.write_bytes(b"\x01\x00\x00\x00\x07\x00\x00\x00" * 200)
    with pytest.raises(ImportFileError, match="không phải tệp CSV"):
        read_plan(binary)


def test_plan_import_stores_the_same_sanitised_text_on_both_databases(
    any_engine, seed_dir, tmp_path
):
    from sqlalchemy import select as sa_select
    from sqlmodel import Session

    from storage.tables.shared import Task

    rows = variant_rows(seed_dir)
    output = rows[0].index("Sản phẩm")
    title = rows[0].index("Nhiệm vụ")
    leaf = [i for i, r in enumerate(rows) if i and r[output].strip() and r[output] != r[title]]
    rows[leaf[0]][output] = "Rà\x07soát\u202e thủ\x1b tục\ufeff hành chính"
    rows[leaf[1]][output] += "\x0b\x0c\x00"
    path = write_csv(rows, tmp_path / "dieu-khien.csv")
    env = {**os.environ, "PARBOT_DATABASE_URL": any_engine.url.render_as_string(False)}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("parbot")),
            "plan",
            "import",
            str(path),
            "--code",
            "X",
            "--year",
            "2024",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with Session(any_engine) as session:
        titles = session.execute(sa_select(Task.expected_output)).scalars().all()
    assert "Ràsoát thủ tục hành chính" in titles
    assert not any(c in t for t in titles for c in "\x00\x07\x0b\x0c\x1b\u202e\ufeff")
