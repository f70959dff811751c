"""An online backup of a SQLite database: a consistent copy while parbot keeps running.

SQLite's backup API copies the database page by page through its own locks, so the copy is a
snapshot even while the bot writes (WAL included), unlike `cp`, which can catch a half-written
page or miss the WAL. It copies a slice of pages at a time and lets writers in between. The
copy is written next to the target and renamed into place once checked, so a failed backup
never leaves a truncated file where a good one was expected. PostgreSQL is backed up with
`pg_dump` (docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

PAGES_PER_STEP = 1024  # ~4 MB at a time; writers wait at most that long


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int  # bytes


class NotSqlite(Exception):
    """The database is not a SQLite file (PostgreSQL: use pg_dump)."""


class BackupExists(Exception):
    """The target file exists; a backup never overwrites one."""


def backup_sqlite(engine: Engine, target: Path) -> Backup:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        raise NotSqlite
    target = target.expanduser().resolve()
    if target.exists():
        raise BackupExists(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(str(engine.url.database), timeout=30)
    try:
        copy = sqlite3.connect(str(partial))
        try:
            source.backup(copy, pages=PAGES_PER_STEP, sleep=0.01)
            check = copy.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise sqlite3.DatabaseError(f"backup failed its check: {check}")
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, target)
    return Backup(target, target.stat().st_size)
