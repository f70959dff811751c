"""Memory of a real `parbot serve` under 20 concurrent unauthenticated 50 MB webhook POSTs.

Starts the fake Bot API, then `parbot serve` in webhook mode (TELEGRAM_MODE=webhook, a secret,
PARBOT_WEB_LISTEN) on a fresh SQLite database; waits for its setWebhook; reads its idle RSS
(/proc/<pid>/status); fires N concurrent POSTs of SIZE MB each to /webhooks/telegram without
the secret header (and, second round, with the secret but over the 1 MB cap), sampling the
server's RSS every 20 ms; prints idle, peak and peak − idle, and the status codes seen.

Target (issue 12): peak within 50 MB of idle.

    .venv/bin/python bench/web_webhook_memory.py [--clients 20] [--mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import FakeBotApi  # noqa: E402

SECRET = "bench-Secret_1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def flood(url: str, clients: int, size: int, headers: dict[str, str]) -> Counter[str]:
    body = b"\0" * size  # one buffer shared by every client: the client side stays small
    seen: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one() -> None:
            try:
                answer = await client.post(url, content=body, headers=headers)
                seen[str(answer.status_code)] += 1
            except httpx.HTTPError as exc:  # the server may close an unread upload early
                seen[type(exc).__name__] += 1

        await asyncio.gather(*(one() for _ in range(clients)))
    return seen


async def sample(pid: int, stop: asyncio.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb(pid))
        await asyncio.sleep(0.02)


async def round_(pid: int, url: str, clients: int, size: int, headers: dict[str, str]) -> tuple:
    stop, peak = asyncio.Event(), [rss_mb(pid)]
    sampler = asyncio.create_task(sample(pid, stop, peak))
    start = time.perf_counter()
    seen = await flood(url, clients, size, headers)
    took = time.perf_counter() - start
    await asyncio.sleep(0.3)
    stop.set()
    await sampler
    return peak[0], seen, took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as api:
        port = free_port()
        env = {
            **os.environ,
            "PARBOT_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.base_url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PARBOT_WEB_LISTEN": f"127.0.0.1:{port}",
            "PARBOT_LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], cwd=tmp, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            api.wait_for("setWebhook", timeout=120)
            url = f"http://127.0.0.1:{port}/webhooks/telegram"
            time.sleep(1.0)
            idle = rss_mb(proc.pid)
            peak, seen, took = asyncio.run(round_(proc.pid, url, args.clients, size, {}))
            capped, seen2, took2 = asyncio.run(
                round_(proc.pid, url, args.clients, size,
                       {"X-Telegram-Bot-Api-Secret-Token": SECRET})
            )
            after = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    load = os.getloadavg()[0]
    print(f"parbot serve, {args.clients} concurrent POSTs of {args.mb} MB to /webhooks/telegram")
    print(f"  load average (1 min) {load:.1f} on {os.cpu_count()} cores")
    print(f"  idle RSS                      {idle:7.1f} MB")
    print(f"  no secret:   peak {peak:7.1f} MB  (+{peak - idle:5.1f} MB)  {dict(seen)}  "
          f"{took:.2f} s")
    print(f"  secret, >1MB: peak {capped:7.1f} MB  (+{capped - idle:5.1f} MB)  {dict(seen2)}  "
          f"{took2:.2f} s")
    print(f"  RSS after                     {after:7.1f} MB")
    worst = max(peak, capped) - idle
    print(f"  target ≤ 50 MB over idle: {'met' if worst <= 50 else 'NOT met'} ({worst:.1f} MB)")
    return 0 if worst <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
