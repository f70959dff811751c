"""Typer's and Click's own words in Vietnamese: every help page and the usage errors."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()
ENGLISH = re.compile(
    r"\b(Usage|Options|Commands|Arguments|Show this|Error|Missing|Invalid|required|default|"
    r"Try|completion|OPTIONS|COMMAND|ARGS|<str>|<int>|<bool>|<path>)\b"
)


def command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        for sub in getattr(command, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "parbot")
def test_every_help_page_is_vietnamese(path):
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Cách dùng:" in result.output
    assert not ENGLISH.search(result.output), result.output


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["invite", "create"], "Lỗi: thiếu tuỳ chọn --agency; xem hướng dẫn: parbot invite create"),
        (["report", "--kind"], "Lỗi: tuỳ chọn --kind cần một giá trị"),
        (["calendar", "list", "--year", "abc"], "Lỗi: '--year' cần một số nguyên"),
        (["khong-co"], "Lỗi: không có lệnh khong-co; xem hướng dẫn: parbot --help"),
        (["report", "--bogus"], "Lỗi: không có tuỳ chọn --bogus"),
        (["plan", "import"], "Lỗi: thiếu tham số TỆP"),
    ],
)
def test_usage_errors_are_one_vietnamese_line(args, line):
    result = runner.invoke(app, args, prog_name="parbot")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(line), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
