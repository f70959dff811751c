"""One scheduler and one delivery worker per database, however many processes run.

Two workers pacing independently would together exceed Telegram's 30 msg/s, and two sweeps
racing would both try to write the same day's rows. PostgreSQL: a session advisory lock, held
on a dedicated connection and released by the server when the process dies. SQLite: an
exclusive `flock` on a file next to the database, released by the kernel when the process
dies — so a restart after `kill -9` takes over at once, with no lease to wait out.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from scheduler.send_lease import holder_name

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x70617262  # "parb"
LEADER_NAME = "parbot-leader:"  # + "host:pid", as its connection's application_name


class Leadership:
    """Held until `release()` (or process exit)."""

    def __init__(self, kind: str, handle: Any) -> None:
        self.kind, self._handle = kind, handle

    def release(self) -> None:
        if self._handle is None:
            return
        if self.kind == "postgresql":
            try:
                self._handle.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._handle.commit()
            finally:
                self._handle.close()
        else:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
        self._handle = None


def lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".scheduler.lock")


def try_lead(engine: Engine) -> Leadership | None:
    """Leadership if no other live process has it, else None."""
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        got: bool = connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
        ).scalar_one()
        connection.commit()
        if not got:
            connection.close()
            return None
        # which process leads, for operators (pg_stat_activity) and the scale-out bench
        connection.execute(
            text("SELECT set_config('application_name', :name, false)"),
            {"name": f"{LEADER_NAME}{holder_name()}"[:63]},
        )
        connection.commit()
        return Leadership("postgresql", connection)
    path = lock_path(engine)
    if path is None:
        return Leadership("none", None)  # in-memory: one process by definition
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return Leadership("sqlite", fd)
