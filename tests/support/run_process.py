"""`parbot run` as a real process against the fake Bot API, for the tests that must see a
process start, answer, die or stop: started, stopped cleanly (its stderr kept), and the one
report step most of them drive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tests.fakes.botapi import FakeBotApi


def start_run(engine: Engine, api: FakeBotApi, cwd: Path, **extra: str) -> subprocess.Popen[str]:
    """`python -m bot.cli run` on `engine`'s database, polling `api`; `extra` adds settings."""
    env = {
        **os.environ,
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        **extra,
    }
    env.pop("TELEGRAM_BOT_USERNAME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_run(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, as systemd stops it; its stderr (killed if it does not stop in 20 s)."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return stderr


def open_status_step(api: FakeBotApi, user: int, since: int) -> tuple[Any, dict[str, Any]]:
    """`/baocao III.4.1` up to the status question: that message and its «Hoàn thành»."""
    api.user_command(user, "baocao", "III.4.1")
    api.wait_for_message(user, contains="Tình trạng hiện nay", since=since, timeout=15)
    status = api.last_message(user)
    done = next(b for b in status.buttons if b["text"] == "Hoàn thành")
    return status, done
