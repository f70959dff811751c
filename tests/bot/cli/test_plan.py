"""The `parbot` plan and agency commands, with bad input that must change nothing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from tests.support.plan_files import variant_rows, write_csv

TABLES = ("agency", "plan", "area", "task", "assignment", "reporting_round")


def snapshot(engine) -> dict[str, str]:
    """Row count and a content digest of every plan table."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY id')).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            out[table] = f"{len(rows)}:{digest}"
    return out


@pytest.fixture
def cli(any_engine, monkeypatch):
    monkeypatch.setenv("PARBOT_DATABASE_URL", any_engine.url.render_as_string(False))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    invoke.engine = any_engine  # type: ignore[attr-defined]
    return invoke


def test_seed_twice_changes_nothing(cli):
    before = snapshot(cli.engine)
    result = cli("seed")
    assert result.exit_code == 0, result.output
    assert "69 nhiệm vụ" in result.output
    after = snapshot(cli.engine)
    assert {k: v for k, v in after.items() if k != "plan"} == {
        k: v for k, v in before.items() if k != "plan"
    }
    assert after["plan"].split(":")[0] == before["plan"].split(":")[0] == "1"


def test_plan_import_prints_summary_and_unresolved(cli, seed_dir, tmp_path):
    result = cli(
        "plan", "import", str(seed_dir / "phu-luc-ke-hoach-2024.docx"), "--code", "PAR-2024"
    )
    assert result.exit_code == 0, result.output
    assert "8 lĩnh vực, 69 nhiệm vụ" in result.output
    assert "Các cơ quan, đơn vị liên quan" in result.output  # unresolved names are listed


def test_plan_import_new_code_then_list(cli, seed_dir, tmp_path):
    path = write_csv(variant_rows(seed_dir), tmp_path / "ke-hoach-2025.csv")
    result = cli("plan", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "PAR-2025" in result.output
    listing = cli("plan", "list")
    assert "PAR-2024" in listing.output and "PAR-2025" in listing.output


def _bad_files(tmp_path: Path, seed_dir: Path) -> dict[str, tuple[Path, str]]:
    import docx

    no_table = tmp_path / "khong-co-bang.docx"
    document = docx.Document()
    document.add_paragraph("Kế hoạch không có phụ lục")
    document.add_table(rows=2, cols=2).rows[0].cells[0].text = "Nơi nhận"
    document.save(str(no_table))

    rows = variant_rows(seed_dir)
    drop = rows[0].index("Thời gian hoàn thành")
    missing = write_csv([r[:drop] + r[drop + 1 :] for r in rows], tmp_path / "thieu-cot.csv")

    empty = tmp_path / "rong.xlsx"
    empty.write_bytes(b"")
    binary = tmp_path / "anh.docx"
    binary.write_bytes(os.urandom(4096))
    huge = tmp_path / "qua-lon.docx"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    return {
        "no_table": (no_table, "không tìm thấy bảng nhiệm vụ"),
        "missing_column": (missing, "thiếu cột bắt buộc: Tiến độ"),
        "empty": (empty, "tệp rỗng"),
        "binary": (binary, "không phải tệp Word"),
        "huge": (huge, "tệp quá lớn"),
        "absent": (tmp_path / "khong-ton-tai.docx", "không tìm thấy tệp"),
    }


@pytest.mark.parametrize(
    "case", ["no_table", "missing_column", "empty", "binary", "huge", "absent"]
)
def test_bad_input_is_refused_and_changes_nothing(cli, seed_dir, tmp_path, case):
    path, message = _bad_files(tmp_path, seed_dir)[case]
    before = snapshot(cli.engine)
    result = cli("plan", "import", str(path), "--code", "PAR-2024", "--year", "2024")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot(cli.engine) == before


def test_bad_row_names_the_row_and_rolls_back(cli, seed_dir, tmp_path):
    rows = variant_rows(seed_dir)
    lead = rows[0].index("Đơn vị chủ trì")
    rows[5][lead] = "Sở Du hành vũ trụ"
    path = write_csv(rows, tmp_path / "sai.csv")
    before = snapshot(cli.engine)
    result = cli("plan", "import", str(path), "--code", "PAR-2024")
    assert result.exit_code != 0
    assert "dòng 6" in result.output and "Sở Du hành vũ trụ" in result.output
    assert snapshot(cli.engine) == before


def test_agency_list_json(cli):
    result = cli("agency", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert len(rows) == 291
    assert set(rows[0]) == {"code", "name", "kind", "parent"}
    by_code = {r["code"]: r for r in rows}
    assert by_code["TTPVHCC"]["parent"] == "VPUBND"
    assert sum(1 for r in rows if r["kind"] == "district") == 18


def test_agency_import_updates_and_rejects_bad_kind(cli, tmp_path):
    good = tmp_path / "co-quan.csv"
    good.write_text(
        "code,name,kind,parent,aliases,active\n"
        "SNV,Sở Nội vụ tỉnh Quảng Nam,department,,SNV,1\n"
        "TTCDS,Trung tâm Chuyển đổi số,public_unit,STTTT,,1\n",
        encoding="utf-8",
    )
    result = cli("agency", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "1 mới, 1 cập nhật" in result.output
    bad = tmp_path / "sai.csv"
    bad.write_text("code,name,kind\nXYZ,Cơ quan lạ,planet\n", encoding="utf-8")
    before = snapshot(cli.engine)
    result = cli("agency", "import", str(bad))
    assert result.exit_code != 0 and "loại cơ quan không hợp lệ" in result.output
    assert snapshot(cli.engine) == before
