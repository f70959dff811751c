"""One sender per channel across every worker process: the channel's send budget as a lease.

Telegram allows a bot 30 messages a second overall, one a second per chat, 20 a minute per
group — for the bot, not per process. Several workers pacing on their own would together go
over; sharing the count through the database on every send would put a locked round trip in
front of every message and let two workers race for the same chat's turn. Instead the whole
budget of a channel is leased to one worker at a time, and that worker paces with the
in-process `scheduler.pacing.Pacer`, which is already measured at ≥ 95 % of the limit with no
429. The others keep trying for the lease and take over when its holder dies or stops.

The lease is a lock the operating system or the database releases when its holder dies, so a
takeover needs no timeout to expire:

* PostgreSQL: a session advisory lock per channel on a connection kept for it (the server
  drops it the moment the holder's connection closes — `kill -9` included);
* SQLite: an exclusive `flock` on a file next to the database, per channel;
* an in-memory database: one process by definition, always held.

A new holder starts where the old one stopped (`scheduler.delivery.DeliveryWorker` does it):
rows the old holder left `sending` become "uncertain" (never resent), the sends the old holder
started in the platform's windows are counted into the new holder's pacer, and a 429 pause it
was told about (stored in `send_budget`) is honoured. While one worker sends, the others'
delivery loops only ask for the lease, five times a second (one tiny query each).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

LEASE_CLASS = 0x70617273  # "pars": the advisory-lock namespace of send leases
LEASE_POLL = 0.2  # seconds between attempts to take a lease another worker holds


def holder_name() -> str:
    """How a worker is named in `send_budget` and /metrics: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_key(channel: str) -> int:
    """The channel's advisory-lock key (a signed 32-bit int from its name)."""
    value = zlib.crc32(channel.encode())
    return value - 2**32 if value >= 2**31 else value


class SendLeases:
    """The send leases this worker holds or wants, one per channel name."""

    def __init__(self, engine: Engine, channels: list[str] | tuple[str, ...]) -> None:
        self.engine = engine
        self.wanted = list(channels)
        self.kind = engine.dialect.name
        self._held: set[str] = set()
        self._connection: Connection | None = None
        self._files: dict[str, int] = {}

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    def acquire(self) -> set[str]:
        """Try for every lease not yet held; return the ones gained just now.

        On PostgreSQL the kept connection is first checked to be alive: when it is gone, so are
        its locks, and this worker stops sending until it wins them back.
        """
        if self.kind == "postgresql":
            self._check_connection()
        gained: set[str] = set()
        for channel in self.wanted:
            if channel not in self._held and self._try(channel):
                self._held.add(channel)
                gained.add(channel)
                log.info("send lease taken channel=%s holder=%s", channel, holder_name())
        return gained

    def release(self) -> None:
        """Give every lease back (a clean stop); the next worker takes over at once."""
        for channel in list(self._held):
            self._release(channel)
        self._held.clear()
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a broken connection: its locks are gone with it
                log.debug("send lease connection already closed")
            self._connection = None

    # ---------------------------------------------------------------- postgresql
    def _lock_connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    def _check_connection(self) -> None:
        if self._connection is None or not self._held:
            return
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            log.warning("send lease connection lost; stopped sending on %s", sorted(self._held))
            self._held.clear()
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing a lost send lease connection failed")
            self._connection = None

    def _try(self, channel: str) -> bool:
        if self.kind == "postgresql":
            connection = self._lock_connection()
            got: Any = connection.execute(
                text("SELECT pg_try_advisory_lock(:c, :k)"),
                {"c": LEASE_CLASS, "k": lease_key(channel)},
            ).scalar_one()
            connection.commit()
            return bool(got)
        path = lease_path(self.engine, channel)
        if path is None:
            return True  # in-memory database: one process
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._files[channel] = fd
        return True

    def _release(self, channel: str) -> None:
        if self.kind == "postgresql":
            if self._connection is None:
                return
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:c, :k)"),
                    {"c": LEASE_CLASS, "k": lease_key(channel)},
                )
                self._connection.commit()
            except Exception:
                log.debug("send lease unlock failed; closing the connection drops it")
            return
        fd = self._files.pop(channel, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lease_path(engine: Engine, channel: str) -> Path | None:
    """SQLite: the lock file of `channel`'s lease, next to the database."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in channel)
    return Path(database).with_name(f"{Path(database).name}.send-{safe}.lock")


def leases_alive(engine: Engine, channels: list[str]) -> dict[str, bool]:
    """PostgreSQL: whether a live process holds each channel's send lease (for /metrics)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :c AND objsubid = 2 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"c": LEASE_CLASS},
        ).all()
    held = {int(r[0]) for r in rows}
    return {ch: (lease_key(ch) & 0xFFFFFFFF) in held for ch in channels}
