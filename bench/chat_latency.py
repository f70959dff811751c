"""Chat latency and throughput: 200 focal points file a report at once, against the fake Bot API.

Run: .venv/bin/python bench/chat_latency.py [--users 200] [--think 1:5] [--echo echo-tuned]

The bot under test is the production wiring (bot.channels.telegram.adapter, dispatcher, chat
feature, SQLite in WAL mode) in its own process, like a deployed bot talking to a remote Bot
API; the fake Bot API and the simulated users share this process. A bare python-telegram-bot
echo bot (PTB's echobot example as is; --echo echo-tuned gives it parbot's concurrency) runs
the same way for comparison.

Two phases per bot:
  throughput — every user answers the moment the bot's prompt arrives (saturation):
               updates/s = updates processed / wall time;
  latency    — users think 1–5 s between steps (200 people filling a form together):
               per-step time from the update being queued to the bot's answer arriving.
Targets (issue 3): p95 ≤ 100 ms per step; parbot updates/s ≥ 0.5 × the echo bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.botapi import MESSAGE_METHODS, Call, FakeBotApi  # noqa: E402

PDF = b"%PDF-1.4\n% minh chung\n" + b"0" * 2000


# --------------------------------------------------------------------------- the bots
def run_bot(mode: str, api_url: str, token: str, db_url: str, stop: Any, ready: Any) -> None:
    """Child process: the parbot bot or a bare echo bot, polling until `stop` is set."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(mode, api_url, token, db_url, stop, ready))


async def _serve(mode: str, api_url: str, token: str, db_url: str, stop: Any, ready: Any) -> None:
    if mode.startswith("echo"):
        from telegram import Update
        from telegram.ext import ApplicationBuilder, MessageHandler, filters

        from bot.channels.telegram.adapter import POOL

        async def echo(update: Update, context: Any) -> None:
            await context.bot.send_message(update.effective_chat.id, update.message.text)

        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api_url}/bot")
            .base_file_url(f"{api_url}/file/bot")
        )
        if mode == "echo-tuned":  # the same concurrency and pool as parbot's adapter
            builder = builder.concurrent_updates(POOL).connection_pool_size(POOL)
        app = builder.build()  # "echo": PTB's echobot example as is (updates one at a time)
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=10)
            ready.set()
            await asyncio.to_thread(stop.wait)
            await app.updater.stop()
            await app.stop()
        return

    from bot.channels.telegram.adapter import build_application, polling
    from bot.chat.dispatcher import Dispatcher
    from bot.runtime import build_registry
    from core.clock import SystemClock
    from storage.db import make_engine

    engine = make_engine(db_url)
    registry = build_registry()
    dispatcher = Dispatcher(engine, registry, SystemClock())
    app, adapter = build_application(token, api_url, dispatcher, registry, engine)
    async with polling(app, adapter, poll_timeout=10):
        ready.set()
        await asyncio.to_thread(stop.wait)


# --------------------------------------------------------------------------- simulated users
@dataclass
class User:
    chat: int
    steps: list[str] = field(default_factory=list)  # names of the steps done
    step: str = ""
    sent_at: float = 0.0
    prompt: Call | None = None
    done: bool = False


# step name -> (what to send, text that marks the bot's answer as complete)
FLOW = ["start", "task", "status", "result", "figure", "difficulties", "file", "files_done", "send"]
MARKS = {
    "start": "Chọn nhiệm vụ",
    "task": "Tình trạng hiện nay",
    "status": "mô tả ngắn",
    "result": ("Kế hoạch đặt chỉ tiêu", "Khó khăn"),
    "figure": "Khó khăn",
    "difficulties": "Tài liệu kiểm chứng",
    "file": "Gửi thêm tệp",
    "files_done": "Xem lại báo cáo",
    "send": "Số biên nhận",
}


class Driver:
    """Plays every user from one loop: reads the bot's calls in order, answers each prompt."""

    def __init__(self, api: FakeBotApi, users: list[User], mode: str, think: tuple[float, float]):
        self.api = api
        self.users = {u.chat: u for u in users}
        self.mode = mode
        self.think = think
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.updates = 0
        self.first = 0.0
        self.last = 0.0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rng = random.Random(7)
        self.cpu = (0.0, 0.0)  # CPU seconds: bot process, this process (fake API + users)

    def act(self, user: User, step: str) -> None:
        api, chat = self.api, user.chat
        if self.mode.startswith("echo"):
            update = api.make_text(chat, f"tin nhắn {len(user.steps) + 1} của {chat}")
        elif step == "start":
            update = api.make_command(chat, "baocao")
        elif step in ("task", "status", "difficulties", "files_done", "send"):
            label = {
                "task": None,
                "status": "Đang thực hiện",
                "difficulties": "Bỏ qua",
                "files_done": "Xong",
                "send": "Gửi",
            }[step]
            prompt = user.prompt
            assert prompt is not None
            buttons = prompt.buttons
            if label is None:  # the first task (a department may first be offered a document
                # that a round asks of it: «📄 Gửi văn bản…», another flow)
                button = next(b for b in buttons if "Gửi văn bản" not in b["text"])
            else:
                button = next(b for b in buttons if label in b["text"])
            update = api.make_button_press(chat, prompt.message_id, button["callback_data"])
        elif step == "result":
            update = api.make_text(chat, "Đã triển khai theo kế hoạch, đạt kết quả tốt")
        elif step == "figure":
            update = api.make_text(chat, "96")
        else:  # file
            update = api.make_document(chat, "minh-chung.pdf", PDF, "application/pdf")
        user.step = step
        user.sent_at = time.time()
        self.first = self.first or user.sent_at
        self.api.inject(update)
        self.updates += 1

    def schedule(self, user: User, step: str) -> None:
        assert self.loop is not None
        low, high = self.think
        delay = self.rng.uniform(low, high) if high > 0 else 0.0
        if delay:
            self.loop.call_later(delay, self.act, user, step)
        else:
            self.act(user, step)

    def on_message(self, call: Call) -> None:
        user = self.users.get(call.chat_id)  # type: ignore[arg-type]
        if user is None or user.done or not user.step:
            return
        if self.mode.startswith("echo"):
            if call.method != "sendMessage":
                return
            self.finish_step(user, call, "echo")
            if len(user.steps) >= len(FLOW):
                user.done = True
            else:
                self.schedule(user, "echo")
            return
        marks = MARKS[user.step]
        marks = marks if isinstance(marks, tuple) else (marks,)
        if call.method != "sendMessage" or not any(m in call.text for m in marks):
            return
        self.finish_step(user, call, user.step)
        user.prompt = call
        following = self.next_step(user, call)
        if following is None:
            user.done = True
        else:
            self.schedule(user, following)

    def next_step(self, user: User, call: Call) -> str | None:
        step = user.step
        if step == "send":
            return None
        if step == "result":
            return "figure" if "chỉ tiêu" in call.text else "difficulties"
        return FLOW[FLOW.index(step) + 1]

    def finish_step(self, user: User, call: Call, name: str) -> None:
        self.latency[name].append(call.time - user.sent_at)
        user.steps.append(name)
        self.last = max(self.last, call.time)

    async def run(self, timeout: float) -> None:
        """Reads each recorded call once, in order, through the fake's own wait (no copies)."""
        self.loop = asyncio.get_running_loop()
        next_seq = self.api.mark()
        remaining = len(self.users)

        def handle(call: Call) -> bool:
            nonlocal next_seq, remaining
            next_seq = call.seq + 1
            if call.ok and call.method in MESSAGE_METHODS:
                user = self.users.get(call.chat_id)  # type: ignore[arg-type]
                was_done = user.done if user else True
                self.on_message(call)
                if user is not None and user.done and not was_done:
                    remaining -= 1
            return remaining == 0

        first_step = "echo" if self.mode.startswith("echo") else "start"
        for user in self.users.values():
            self.schedule(user, first_step)
        deadline = self.loop.time() + timeout
        while remaining:
            if self.loop.time() > deadline:
                stuck = [u for u in self.users.values() if not u.done][:3]
                raise TimeoutError(f"users stuck: {[(u.chat, u.step) for u in stuck]}")
            with contextlib.suppress(TimeoutError):
                await self.api.await_for(handle, timeout=1.0, since=next_seq)


# --------------------------------------------------------------------------- setup and report
def prepare_database(folder: Path, users: int) -> tuple[str, list[int]]:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from core.model import UserRole
    from storage.chat.state import ChatKey, link_contact
    from storage.db import make_engine, transaction
    from storage.migrate import upgrade
    from storage.seed import load_seed
    from storage.tables.shared import Agency, Assignment

    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_seed(engine, ROOT / "storage" / "seed" / "quang-nam-2024")
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from storage.reports.evaluation_store import refresh_all

    with transaction(engine) as session:  # as after the daily job: every report moves them
        refresh_all(session, ZoneInfo("Asia/Ho_Chi_Minh"), datetime.now(UTC))
    with Session(engine) as session:
        agencies = (
            session.execute(
                select(Agency.id)
                .join(Assignment, Assignment.agency_id == Agency.id)
                .group_by(Agency.id)
                .having(func.count() > 0)
                .order_by(Agency.id)
            )
            .scalars()
            .all()
        )
    chats = []
    with transaction(engine) as session:
        for index in range(users):
            chat = 900_000 + index
            agency = agencies[index % len(agencies)]
            link_contact(
                session, ChatKey("telegram", str(chat), str(chat)), "", agency, UserRole.FOCAL
            )
            chats.append(chat)
    engine.dispose()
    return url, chats


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to show which side is the bottleneck."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(mode: str, db_url: str, chats: list[int], think: tuple[float, float]) -> Driver:
    context = mp.get_context("spawn")
    with FakeBotApi() as api:
        stop, ready = context.Event(), context.Event()
        process = context.Process(
            target=run_bot, args=(mode, api.base_url, api.token, db_url, stop, ready)
        )
        process.start()
        if not ready.wait(120):
            process.kill()
            raise RuntimeError(f"{mode} bot did not start")
        if not mode.startswith("echo"):  # start-up publishes every user's command menu: wait
            api.wait_for(lambda c: len(api.calls_to("setMyCommands")) > len(chats), timeout=120)
        driver = Driver(api, [User(chat) for chat in chats], mode, think)
        bot_cpu, own_cpu = cpu_seconds(process.pid), cpu_seconds(os.getpid())
        try:
            asyncio.run(driver.run(timeout=150))
            driver.cpu = (cpu_seconds(process.pid) - bot_cpu, cpu_seconds(os.getpid()) - own_cpu)
        finally:
            stop.set()
            process.join(30)
            if process.is_alive():
                process.kill()
    return driver


def report(title: str, driver: Driver) -> float:
    wall = max(driver.last - driver.first, 1e-9)
    rate = driver.updates / wall
    print(f"\n{title}: {driver.updates} updates in {wall:.1f} s = {rate:.0f} updates/s")
    bot_cpu, own_cpu = driver.cpu
    print(f"  CPU: bot process {bot_cpu:.1f} s, fake Bot API + simulated users {own_cpu:.1f} s")
    print(f"  {'step':<14}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for step, values in driver.latency.items():
        print(
            f"  {step:<14}{len(values):>6}{percentile(values, 0.5) * 1000:>10.1f}"
            f"{percentile(values, 0.95) * 1000:>10.1f}{max(values) * 1000:>10.1f}"
        )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--think", default="1.0:5.0", help="seconds between steps, min:max")
    parser.add_argument(
        "--echo",
        choices=["echo", "echo-tuned"],
        default="echo",
        help="echo: PTB's echobot example as is; echo-tuned: parbot's concurrency and pool",
    )
    args = parser.parse_args()
    low, high = (float(x) for x in args.think.split(":"))
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="parbot-bench-"))
    try:
        db_url, chats = prepare_database(folder, args.users)
        template = folder / "bench.db"
        fresh = folder / "run.db"

        def copy() -> str:
            shutil.copy(template, fresh)
            return f"sqlite:///{fresh}"

        print(f"{args.users} simulated focal points; bot and echo bot each in their own process")
        print(f"echo bot: {args.echo}; users think {low:g}–{high:g} s between steps")
        echo_max = report("echo bot, saturation", run_phase(args.echo, db_url, chats, (0, 0)))
        bot_max = report("parbot, saturation", run_phase("parbot", copy(), chats, (0, 0)))
        echo_lat = run_phase(args.echo, db_url, chats, (low, high))
        report(f"echo bot, users thinking {low:g}–{high:g} s", echo_lat)
        bot_lat = run_phase("parbot", copy(), chats, (low, high))
        report(f"parbot, users thinking {low:g}–{high:g} s", bot_lat)
        worst = max(percentile(v, 0.95) for v in bot_lat.latency.values()) * 1000
        ratio = bot_max / echo_max
        print(
            f"\nverdict: worst per-step p95 {worst:.0f} ms (target ≤ 100) — "
            f"{'met' if worst <= 100 else 'NOT met'}; "
            f"throughput {ratio:.2f} × echo (target ≥ 0.5) — {'met' if ratio >= 0.5 else 'NOT met'}"
        )
        print(f"total bench time {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
