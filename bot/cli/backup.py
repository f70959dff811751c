"""`parbot db backup PATH`: an online copy of the SQLite database (storage/backup.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.support import fail, get_engine
from messages.render import render
from storage.backup import BackupExists, NotSqlite, backup_sqlite


def backup(path: Path = typer.Argument(..., help="Tệp sao lưu sẽ tạo (không ghi đè).")) -> None:
    """Sao lưu cơ sở dữ liệu SQLite trong khi bot vẫn chạy."""
    engine = get_engine()
    try:
        done = backup_sqlite(engine, path)
    except NotSqlite:
        fail(render("cli/backup_not_sqlite.j2"))
    except BackupExists as exc:
        fail(render("cli/backup_exists.j2", path=str(exc)))
    finally:
        engine.dispose()
    typer.echo(render("cli/backup_done.j2", path=str(done.path), mb=done.size / 1_048_576))


def register(app: typer.Typer) -> None:
    from bot.cli.plan import db_app

    db_app.command("backup")(backup)
