"""`parbot db backup PATH`: a consistent copy of the SQLite database while it is in use."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def count(path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_backup_copies_what_is_committed_while_a_writer_is_busy(engine, tmp_path, monkeypatch):
    source = engine.url.database
    monkeypatch.setenv("PARBOT_DATABASE_URL", f"sqlite:///{source}")
    agencies = count(source, "agency")
    assert agencies > 0
    target = tmp_path / "backups" / "parbot-2024-07-01.db"
    with engine.connect() as writer:  # a write in progress, not yet committed
        writer.execute(text("UPDATE agency SET name = 'đang sửa' WHERE id = 1"))
        result = runner.invoke(app, ["db", "backup", str(target)])
        writer.rollback()
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu cơ sở dữ liệu vào" in result.output
    assert count(target, "agency") == agencies
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT name FROM agency WHERE id = 1").fetchone()[0] != "đang sửa"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    assert {"outbox", "alembic_version", "send_budget"} <= tables
    assert not list(target.parent.glob(".*partial"))


def test_backup_never_overwrites_and_points_postgresql_to_pg_dump(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("PARBOT_DATABASE_URL", f"sqlite:///{engine.url.database}")
    target = tmp_path / "kept.db"
    target.write_bytes(b"an older backup")
    again = runner.invoke(app, ["db", "backup", str(target)])
    assert again.exit_code == 2 and "đã có" in again.stderr
    assert target.read_bytes() == b"an older backup"
    monkeypatch.setenv("PARBOT_DATABASE_URL", "postgresql://parbot@127.0.0.1:5432/parbot")
    refused = runner.invoke(app, ["db", "backup", str(tmp_path / "pg.db")])
    assert refused.exit_code == 2 and "pg_dump" in refused.stderr
    assert not (tmp_path / "pg.db").exists()
