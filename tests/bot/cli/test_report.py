"""`parbot report` and `parbot demo`: outputs, Vietnamese errors with exit code 2, no writes."""

from __future__ import annotations

import json

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

import bot.cli.report as cli_report
from bot.cli import app
from messages.reports.json_export import report_dict
from storage.tables.shared import AuditLog, StatusReport
from tests.support import reports as report_support
from tests.support.reports import compiled

# fixtures shared by the report tests (a module attribute registers them here)
demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


runner = CliRunner()


def env(engine, tmp_path) -> dict[str, str]:
    return {
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PARBOT_DATA_DIR": str(tmp_path / "data"),
        "PARBOT_TIMEZONE": "Asia/Ho_Chi_Minh",
    }


def fingerprint(engine) -> tuple:
    with Session(engine) as session:
        reports = session.execute(
            select(func.count(), func.sum(StatusReport.version)).select_from(StatusReport)
        ).one()
        audits = session.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    return tuple(reports) + (audits,)


def test_json_prints_per_task_ref_status_counts_and_reports(demo_engine, tmp_path):
    result = runner.invoke(
        app, ["report", "--format", "json", "--as-of", "31/03/2025"], env=env(demo_engine, tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = report_dict(compiled(demo_engine))
    payload.pop("generated_at"), expected.pop("generated_at")
    assert payload == expected
    first = payload["tasks"][0]
    assert set(first) >= {"ref", "status", "reports"}
    assert set(first["status"]) == {
        "done_on_time",
        "done_late",
        "in_progress",
        "overdue",
        "not_reported",
    }


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "png", "zip", "md"])
def test_files_are_written_where_asked(demo_engine, tmp_path, fmt):
    out = tmp_path / "out" / f"tong-hop.{fmt}"
    result = runner.invoke(
        app,
        ["report", "-f", fmt, "-o", str(out), "--as-of", "2025-03-31", "--area", "II"],
        env=env(demo_engine, tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 0
    assert f"Đã ghi {fmt}: {out}" in result.stderr
    assert not list(out.parent.glob(".*.part"))  # nothing half-written is left behind
    if fmt == "xlsx":
        refs = [
            r[0]
            for r in openpyxl.load_workbook(out)["Tổng hợp"].iter_rows(min_row=5, values_only=True)
        ]
        assert refs and all(ref.startswith("II.") for ref in refs)


def test_progress_bar_on_large_data(demo_engine, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_report, "LARGE", 1)
    stages: list[str] = []
    real = cli_report.progress_bar

    def spy(enabled: bool):
        assert enabled
        return real(enabled)

    monkeypatch.setattr(cli_report, "progress_bar", spy)
    out = tmp_path / "big.xlsx"
    result = runner.invoke(
        app, ["report", "-f", "xlsx", "-o", str(out)], env=env(demo_engine, tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    assert out.exists()
    with real(True) as step:
        assert step is not None
        step("reports", 1, 2)
        stages.append("reports")
    assert stages == ["reports"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "pdf", "-o", "x.pdf"], 'định dạng không hợp lệ "pdf"'),
        (["-f", "xlsx"], "định dạng xlsx cần --out"),
        (["-f", "json", "--as-of", "31/02/2025"], 'ngày không hợp lệ "31/02/2025"'),
        (["-f", "json", "--round", "KHONG-CO"], 'không có kỳ báo cáo mã "KHONG-CO"'),
        (["-f", "json", "--plan", "KHONG-CO"], 'không có kế hoạch mã "KHONG-CO"'),
        (["-f", "json", "--area", "IX"], 'không có lĩnh vực "IX"'),
        (["-f", "json", "--kind", "tinh"], 'loại cơ quan không hợp lệ "tinh"'),
        (["-o", "out.xlsx", "--agency", "KHONG-CO"], 'không có cơ quan nào khớp "KHONG-CO"'),
        (["-o", "out.docx", "-f", "xlsx"], "-f xlsx không khớp với tên tệp"),
        (["-o", "out.pdf"], 'không biết định dạng của tệp "out.pdf"'),
        (["-f", "json", "--as-of", "31/12/2999"], "ở sau hôm nay"),
        (["-f", "json", "--agency", "UBND tỉnh"], "Văn phòng UBND tỉnh (VPUBND)"),
    ],
)
def test_errors_are_vietnamese_exit_2_and_change_nothing(demo_engine, tmp_path, args, message):
    before = fingerprint(demo_engine)
    result = runner.invoke(app, ["report", *args], env=env(demo_engine, tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Lỗi: ") and message in result.stderr
    assert result.stdout == ""
    assert fingerprint(demo_engine) == before
    assert not (tmp_path / "out.xlsx").exists()


def test_demo_seed_and_clear(engine, tmp_path):
    first = runner.invoke(app, ["demo", "seed"], env=env(engine, tmp_path))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("Báo cáo minh họa cho PAR-2024:")
    rows = fingerprint(engine)
    again = runner.invoke(app, ["demo", "seed"], env=env(engine, tmp_path))
    assert again.exit_code == 0 and fingerprint(engine) == rows
    assert "đã thay" in again.stdout
    missing = runner.invoke(app, ["demo", "seed", "--plan", "KHONG-CO"], env=env(engine, tmp_path))
    assert missing.exit_code == 2 and 'không có kế hoạch mã "KHONG-CO"' in missing.stderr
    cleared = runner.invoke(app, ["demo", "clear"], env=env(engine, tmp_path))
    assert cleared.exit_code == 0 and cleared.stdout.startswith("Đã xóa ")
    assert fingerprint(engine)[0] == 0


def test_the_format_comes_from_the_file_name(demo_engine, tmp_path):
    out = tmp_path / "x.docx"
    result = runner.invoke(app, ["report", "-o", str(out)], env=env(demo_engine, tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Đã ghi docx:")
    from docx import Document

    assert Document(str(out)).paragraphs  # a real Word file, not a workbook under its name


def test_agency_and_kind_by_vietnamese_name(demo_engine, tmp_path):
    by_name = runner.invoke(
        app,
        ["report", "-f", "json", "--as-of", "31/03/2025", "--agency", "tư pháp", "--kind", "sở"],
        env=env(demo_engine, tmp_path),
    )
    assert by_name.exit_code == 0, by_name.stderr
    payload = json.loads(by_name.stdout)
    assert payload["scope"] == {"area": None, "kind": "department", "agency": "STP"}
    assert payload["as_of"] == "2025-03-31"


def test_the_evaluation_date_is_explicit_and_today_by_default(demo_engine, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    result = runner.invoke(app, ["report", "-f", "json"], env=env(demo_engine, tmp_path))
    assert result.exit_code == 0, result.stderr
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    assert json.loads(result.stdout)["as_of"] == today
    md = runner.invoke(app, ["report", "-f", "md"], env=env(demo_engine, tmp_path))
    assert "Tính đến ngày " in md.stdout
