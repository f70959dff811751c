"""Set-up mistakes on a fresh clone: commands run in the wrong order say what to run next,
in one Vietnamese line, with no traceback and no empty database file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "data" / "parbot.db"
    monkeypatch.setenv("PARBOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("PARBOT_DATA_DIR", str(tmp_path / "data"))
    return db


def one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "import", "storage/seed/quang-nam-2024/phu-luc-ke-hoach-2024.docx"],
        ["seed"],
        ["plan", "list"],
        ["agency", "list"],
        ["report", "-f", "json"],
    ],
)
def test_before_db_upgrade_says_to_run_it_and_leaves_no_file(fresh, args):
    result = runner.invoke(app, args)
    one_line_error(result, "parbot db upgrade")
    assert not fresh.exists()


def test_db_upgrade_says_it_created_the_schema_then_that_nothing_changed(fresh):
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "Đã tạo cơ sở dữ liệu" in first.stdout and "parbot seed" in first.stdout
    assert "đã ở phiên bản mới nhất" not in first.stdout
    again = runner.invoke(app, ["db", "upgrade"])
    assert "không có gì thay đổi" in again.stdout


def test_plan_import_before_seed_says_the_agency_directory_is_empty(fresh):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app, ["plan", "import", "storage/seed/quang-nam-2024/phu-luc-ke-hoach-2024.docx"]
    )
    one_line_error(result, "danh mục cơ quan còn trống", "parbot seed", "parbot agency import")
    listed = runner.invoke(app, ["agency", "list"])
    one_line_error(listed, "parbot seed")


def test_seed_again_is_one_quiet_line(fresh):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["seed"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["seed"])
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().count("\n") == 0
    assert "không có gì thay đổi" in again.stdout
    assert "Tên cơ quan chưa xác định" not in again.stdout


def test_agency_list_takes_vietnamese_kinds_or_fails_clearly(fresh):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["seed"]).exit_code == 0
    departments = runner.invoke(app, ["agency", "list", "--kind", "sở"])
    assert departments.exit_code == 0 and "Sở Tư pháp" in departments.stdout
    assert "Sở, ban, ngành" in departments.stdout and "department" not in departments.stdout
    communes = runner.invoke(app, ["agency", "list", "--kind", "cấp xã"])
    assert communes.exit_code == 0 and communes.stdout.count("\n") > 200
    one_line_error(runner.invoke(app, ["agency", "list", "--kind", "tỉnh"]), "sở, huyện, xã")


def test_plan_show_writes_vietnamese_schedules_and_dates(fresh):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["seed"]).exit_code == 0
    shown = runner.invoke(app, ["plan", "show"])
    assert shown.exit_code == 0, shown.output
    assert "31/12/2024" in shown.stdout and "2024-12-31" not in shown.stdout
    for english in ("monthly", "quarterly", "yearly"):
        assert english not in shown.stdout
