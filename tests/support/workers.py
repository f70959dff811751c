"""`parbot serve --workers N` as real processes, for the scale-out tests and bench/scale_out.py.

The supervisor (uvicorn's) runs in a session of its own so a test can SIGKILL everything at
once; its worker processes are its `spawn_main` children; the leader is the worker whose
pid its leadership connection names in pg_stat_activity (scheduler/leader.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from scheduler.leader import LEADER_NAME

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scale-out-Secret_1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(api_token: str, api_url: str, database_url: str, port: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARBOT_", "TELEGRAM_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PARBOT_DATABASE_URL": database_url,
            "PARBOT_WEB_LISTEN": f"127.0.0.1:{port}",
            "PARBOT_WEB_URL": f"http://127.0.0.1:{port}",
            "TELEGRAM_BOT_TOKEN": api_token,
            "TELEGRAM_API_URL": api_url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_BOT_USERNAME": "parbot_test_bot",
            "PARBOT_LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


class Workers:
    """One `parbot serve --workers N` supervisor and its workers."""

    def __init__(self, workers: int, env: dict, cwd: Path, log: IO[str]) -> None:
        self.count = workers
        self.env, self.cwd, self.log = env, cwd, log
        self.port = int(env["PARBOT_WEB_LISTEN"].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 90) -> Workers:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--workers", str(self.count)],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        """Every worker started and the web answers (one worker: uvicorn runs it in-process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, "supervisor exited"
            if self.count == 1 or len(self.pids()) >= self.count:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        raise AssertionError("workers did not start in time")

    def pids(self) -> list[int]:
        """The live worker processes (children of the supervisor running uvicorn's spawn)."""
        assert self.proc is not None
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            if ppid == self.proc.pid and b"spawn_main" in cmdline and state != "Z":
                found.append(int(entry.name))
        return sorted(found)

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def kill_all(self) -> None:
        """SIGKILL the supervisor and every worker at once (a power cut)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode


def leader_pid(engine: Engine) -> int | None:
    """The pid of the worker that leads (its leadership connection's application_name)."""
    with engine.connect() as connection:
        names = connection.execute(
            text(
                "SELECT application_name FROM pg_stat_activity "
                "WHERE application_name LIKE :p AND datname = current_database()"
            ),
            {"p": f"{LEADER_NAME}%"},
        ).scalars().all()
    pids = [int(n.rsplit(":", 1)[-1]) for n in names]  # parbot-leader:host:pid
    return pids[0] if len(pids) == 1 else None


def wait_for_leader(engine: Engine, other_than: int | None = None, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = leader_pid(engine)
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.1)
    raise AssertionError("no leader in time")


def post_update(url: str, update: dict, client: httpx.Client | None = None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    if client is None:
        return httpx.post(f"{url}/webhooks/telegram", json=update, headers=headers).status_code
    return client.post("/webhooks/telegram", json=update, headers=headers).status_code
