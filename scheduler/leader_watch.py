"""Is some process the scheduling leader (scheduler/leader.py), and which? Asked by /healthz.

PostgreSQL: the leader holds a session advisory lock; `pg_locks` shows it, and the holder's
`application_name` (set by storage.db for every connection: "parbot:<host>:<pid>") names the
process. SQLite: the leader holds an exclusive `flock`; a shared, non-blocking attempt on the
same file fails exactly while it is held (and is dropped at once when it succeeds). An
in-memory database has one process, which leads.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from scheduler.leader import ADVISORY_KEY, LEADER_NAME, lock_path


@dataclass(frozen=True)
class LeaderState:
    present: bool
    holder: str | None = None  # "host:pid" where the database can tell (PostgreSQL)


def leader_state(engine: Engine) -> LeaderState:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid = :high AND l.objid = :low "
                    # advisory locks belong to one database; the server holds many
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
            ).first()
        if row is None:
            return LeaderState(False)
        name = str(row[0] or "")
        for prefix in (LEADER_NAME, "parbot:"):  # the leader renames its own connection
            if name.startswith(prefix):
                return LeaderState(True, name.removeprefix(prefix))
        return LeaderState(True, None)
    path = lock_path(engine)
    if path is None:
        return LeaderState(True)
    if not path.exists():
        return LeaderState(False)
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return LeaderState(True)
    finally:
        os.close(fd)  # closing drops the shared lock if it was granted
    return LeaderState(False)
