"""A 1,000-recipient broadcast through the real Telegram channel to a fake Bot API that
enforces Telegram's limits (it answers 429 above 30 msg/s overall, 1/s per chat, 20/min per
group, in sliding windows, and counts the 429s).

The production path: `create_broadcast` writes the outbox rows (plus the coordinator's
progress message), the delivery worker sends them with its own PTB bot (TelegramChannel, httpx),
edits the progress message and writes the tally. Prints messages/s (sustained: first to last
arrival at the server; and wall clock from start to the last row recorded), 429s received,
duplicates, lost, and the busiest sliding second seen by the server.

Target: ≥ 28.5 messages/s (95 % of 30/s), 0 duplicates, 0 lost, 0 429s.

    .venv/bin/python bench/broadcast.py [--recipients 1000]

`--zalo [--zalo-rate 10]`: the same broadcast through the Zalo Bot Platform channel to the fake
Zalo server, which answers 429 "Quota exceeded" above the configured rate; target ≥ 95 % of it.

`--workers 2 [--kill] [--postgres URL]`: the broadcast on PostgreSQL delivered by N worker
processes at once, each with its own engine, bot and pacer, sharing the one send budget
(scheduler/send_lease.py). `--kill` SIGKILLs the worker sending at a third of the way and
starts a new one; a message in flight at the kill may be "uncertain" (listed, never resent).
The URL defaults to PARBOT_TEST_POSTGRES_URL; a scratch database is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.delivery import delivery_channel  # noqa: E402
from bot.settings import Settings  # noqa: E402
from core.broadcast import AudienceKind, BroadcastAudience  # noqa: E402
from core.calendar import WorkCalendar  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.outgoing import Outgoing  # noqa: E402
from scheduler.broadcast import BroadcastProgress  # noqa: E402
from scheduler.delivery import DeliveryConfig, DeliveryWorker  # noqa: E402
from storage import outbox as outbox_repo  # noqa: E402
from storage.db import make_engine, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.scheduling.broadcast import Recipient, create_broadcast  # noqa: E402
from storage.tables.shared import Contact, Outbox  # noqa: E402
from tests.fakes.botapi import FakeBotApi  # noqa: E402

FIRST_CHAT, COORDINATOR_CHAT = 500_000, 9_000


def prepare(engine, count: int) -> None:
    now = SystemClock().now()
    with transaction(engine) as session:
        sender = Contact(
            channel="telegram",
            user_id=str(COORDINATOR_CHAT),
            chat_id=str(COORDINATOR_CHAT),
            role="coordinator",
            display_name="Sở Nội vụ",
        )
        session.add(sender)
        session.flush()
        session.execute(
            insert(Contact),
            [
                {"channel": "telegram", "user_id": str(FIRST_CHAT + n),
                 "chat_id": str(FIRST_CHAT + n), "display_name": "", "role": "focal",
                 "active": True, "digest_muted": False, "created_at": now}
                for n in range(count)
            ],
        )  # fmt: skip
        rows = session.execute(
            select(Contact.id, Contact.chat_id).where(Contact.role == "focal")
        ).all()
        targets = [Recipient(cid, "telegram", chat, None) for cid, chat in rows]
        create_broadcast(
            session,
            audience=BroadcastAudience(AudienceKind.ALL_FOCAL),
            message=Outgoing("📢 Nhắc nhở từ Sở Nội vụ: đề nghị gửi báo cáo Quý III."),
            progress=Outgoing(f"📤 Nhắc nhở — Đã gửi 0/{count}…"),
            targets=targets,
            sender=sender,
            actor="bench",
            now=now,
        )


def busiest_second(times: list[float]) -> int:
    window: deque[float] = deque()
    best = 0
    for t in sorted(times):
        window.append(t)
        while window[0] <= t - 1.0:
            window.popleft()
        best = max(best, len(window))
    return best


async def deliver(engine, api: FakeBotApi) -> float:
    os.environ["TELEGRAM_BOT_TOKEN"] = api.token
    os.environ["TELEGRAM_API_URL"] = api.base_url
    settings = Settings()
    telegram, bot = delivery_channel(api.token, api.base_url, engine)
    channels = {telegram.name: telegram}
    config = DeliveryConfig(scheduled_kinds=frozenset(), per_second=settings.send_rate)
    worker = DeliveryWorker(engine, channels, SystemClock(), lambda: WorkCalendar.of(), config)
    worker.listeners.append(BroadcastProgress(engine, worker, SystemClock()))
    async with bot:
        started = time.time()
        while True:
            if (await worker.run_once()).handled:
                continue
            with Session(engine) as session:
                counts = outbox_repo.status_counts(session)
            if not counts.get("pending") and not counts.get("sending"):
                return started
            await asyncio.sleep(0.05)


# ---------------------------------------------------------------------------- zalo run
ZALO_FIRST = 700_000


def prepare_zalo(engine, count: int) -> None:
    """Focal points on the Zalo Bot Platform (string ids) and a coordinator sending to them."""
    now = SystemClock().now()
    with transaction(engine) as session:
        sender = Contact(channel="zalo", user_id="coordinator", chat_id="coordinator",
                         role="coordinator", display_name="Sở Nội vụ")  # fmt: skip
        session.add(sender)
        session.flush()
        session.execute(
            insert(Contact),
            [
                {"channel": "zalo", "user_id": f"z{ZALO_FIRST + n:x}",
                 "chat_id": f"z{ZALO_FIRST + n:x}", "display_name": "", "role": "focal",
                 "active": True, "digest_muted": False, "created_at": now}
                for n in range(count)
            ],
        )  # fmt: skip
        rows = session.execute(
            select(Contact.id, Contact.chat_id).where(Contact.role == "focal")
        ).all()
        create_broadcast(
            session,
            audience=BroadcastAudience(AudienceKind.ALL_FOCAL),
            message=Outgoing("📢 Nhắc nhở từ Sở Nội vụ: đề nghị gửi báo cáo Quý III."),
            progress=Outgoing(f"📤 Nhắc nhở — Đã gửi 0/{count}…"),
            targets=[Recipient(cid, "zalo", chat, None) for cid, chat in rows],
            sender=sender,
            actor="bench",
            now=now,
        )


async def deliver_zalo(engine, api, rate: float) -> float:
    """The Zalo channel alone, paced at its own rate (ZALO_SEND_RATE), no global override."""
    from bot.channels.zalo_bot.channel import ZaloBotChannel
    from bot.channels.zalo_bot.client import ZaloBotClient

    client = ZaloBotClient(api.token, api.base_url)
    channels = {"zalo": ZaloBotChannel(client, rate=rate)}
    config = DeliveryConfig(scheduled_kinds=frozenset(), per_second=None)
    worker = DeliveryWorker(engine, channels, SystemClock(), lambda: WorkCalendar.of(), config)
    started = time.time()
    try:
        while True:
            if (await worker.run_once()).handled:
                continue
            with Session(engine) as session:
                counts = outbox_repo.status_counts(session)
            if not counts.get("pending") and not counts.get("sending"):
                return started
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


def main_zalo(recipients: int, rate: float) -> int:
    """`--zalo`: the broadcast on the fake Zalo Bot Platform, which answers 429 above `rate`."""
    from tests.fakes.zalo.bot import FakeZaloBot

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        prepare_zalo(engine, recipients)
        with FakeZaloBot(rate=rate, quota=10**9) as api:
            started = asyncio.run(deliver_zalo(engine, api, rate))
            calls = [c for c in api.sent() if c.chat_id != "coordinator"]
            rejected = api.rejected_429
        with Session(engine) as session:
            statuses = outbox_repo.status_counts(session)
        engine.dispose()
    per_chat = Counter(c.chat_id for c in calls)
    chats = {f"z{ZALO_FIRST + n:x}" for n in range(recipients)}
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    lost = len(chats - set(per_chat))
    times = sorted(c.at for c in calls)
    sustained = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"zalo recipients: {recipients}; delivered: {len(per_chat)}; outbox: {statuses}")
    print(f"messages/s: {sustained:.2f} sustained (configured ZALO_SEND_RATE {rate:g})")
    print(f"429s received: {rejected}; duplicates: {duplicates}; lost: {lost}")
    print(f"wall clock: {time.time() - started:.1f} s")
    ok = sustained >= 0.95 * rate and rejected == 0 and duplicates == 0 and lost == 0
    verdict = "met" if ok else "NOT met"
    print(f"target ≥ {0.95 * rate:.2f} msg/s, 0 429s, 0 duplicates, 0 lost: {verdict}")
    return 0 if ok else 1


# ---------------------------------------------------------------------- several workers
async def child_worker() -> None:
    """One worker process (`--child`): delivers with a send lease until SIGTERM."""
    import signal

    from scheduler.send_lease import SendLeases

    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    settings = Settings()
    token, api_url = os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"]
    telegram, bot = delivery_channel(token, api_url, engine)
    config = DeliveryConfig(scheduled_kinds=frozenset(), per_second=settings.send_rate)
    worker = DeliveryWorker(
        engine,
        {telegram.name: telegram},
        SystemClock(),
        lambda: WorkCalendar.of(),
        config,
        leases=SendLeases(engine, [telegram.name]),
    )
    worker.listeners.append(BroadcastProgress(engine, worker, SystemClock()))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with bot:
        await worker.run(stop)
    engine.dispose()


def holder_pid(engine) -> int | None:
    from storage.tables.sending import SendBudget

    with Session(engine) as session:
        budget = session.get(SendBudget, "telegram")
    if budget is None or not budget.holder:
        return None
    return int(budget.holder.rsplit(":", 1)[1])


def main_workers(recipients: int, workers: int, kill: bool, admin_url: str | None) -> int:
    import signal
    import subprocess
    import uuid

    from sqlalchemy import create_engine, text

    if not admin_url:
        print("--workers needs PostgreSQL: --postgres URL or PARBOT_TEST_POSTGRES_URL")
        return 2
    admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"parbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    children: list[subprocess.Popen[bytes]] = []
    killed: list[int] = []
    try:
        upgrade(engine)
        prepare(engine, recipients)
        with FakeBotApi(enforce_limits=True) as api:
            env = {**os.environ, "BENCH_DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": api.token,
                   "TELEGRAM_API_URL": api.base_url}  # fmt: skip

            def spawn() -> subprocess.Popen[bytes]:
                return subprocess.Popen(
                    [sys.executable, __file__, "--child"], env=env, cwd=str(ROOT)
                )

            started = time.time()
            children = [spawn() for _ in range(workers)]
            while True:
                time.sleep(0.2)
                delivered = sum(
                    1 for c in api.calls
                    if c.method == "sendMessage" and c.ok and c.chat_id != COORDINATOR_CHAT
                )  # fmt: skip
                if kill and not killed and delivered >= recipients // 3:
                    pid = holder_pid(engine)
                    victim = next((c for c in children if c.pid == pid), None)
                    if victim is not None:
                        victim.send_signal(signal.SIGKILL)
                        victim.wait()
                        killed.append(victim.pid)
                        children.remove(victim)
                        children.append(spawn())  # the restart
                with Session(engine) as session:
                    counts = outbox_repo.status_counts(session)
                if not counts.get("pending") and not counts.get("sending"):
                    break
                if time.time() - started > 30 + recipients / 10:
                    print(f"gave up waiting; outbox: {counts}")
                    break
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)
            calls = [
                c for c in api.sent_messages()
                if c.method == "sendMessage" and c.chat_id != COORDINATOR_CHAT
            ]  # fmt: skip
            all_sends = [c.time for c in api.calls if c.method == "sendMessage" and c.ok]
            count_429 = api.count_429
        with Session(engine) as session:
            statuses = outbox_repo.status_counts(session)
            rows = session.exec(
                select(Outbox.chat_id, Outbox.status, Outbox.error).where(
                    Outbox.chat_id != str(COORDINATOR_CHAT)
                )
            ).all()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    per_chat = Counter(int(c.chat_id) for c in calls)  # type: ignore[arg-type]
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    confirmed = {int(chat) for chat, status, _ in rows if status == "sent"}
    uncertain = sorted(int(chat) for chat, status, error in rows
                       if status == "failed" and (error or "").startswith("uncertain"))  # fmt: skip
    lost = len(confirmed - set(per_chat))  # marked sent, never arrived
    unsent = recipients - len(confirmed) - len(uncertain)
    times = sorted(c.time for c in calls)
    sustained = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"workers: {workers} processes on PostgreSQL; killed: {killed or 'none'}")
    print(f"recipients: {recipients}; delivered: {len(per_chat)}; outbox: {statuses}")
    print(f"messages/s: {sustained:.2f} sustained (first→last arrival)")
    print(f"429s received: {count_429}; duplicates: {duplicates}; lost: {lost}; unsent: {unsent}")
    print(f"uncertain (in flight at a kill, not resent): {uncertain or 'none'}")
    print(f"busiest sliding second at the server: {busiest_second(all_sends)} sendMessage calls")
    gaps = [(b - a, a - times[0]) for a, b in zip(times, times[1:], strict=False)]
    gap, at = max(gaps) if gaps else (0.0, 0.0)
    print(f"longest pause between arrivals: {gap:.2f} s, {at:.1f} s in (a kill's handover)")
    ok = sustained >= 28.5 and count_429 == 0 and duplicates == 0 and lost == 0 and unsent == 0
    ok = ok and len(uncertain) <= len(killed)
    print(f"target ≥ 28.5 msg/s, 0 429s, 0 duplicates, 0 lost: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--zalo", action="store_true", help="the Zalo Bot Platform run instead")
    parser.add_argument("--zalo-rate", type=float, default=10.0, help="ZALO_SEND_RATE for --zalo")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (PostgreSQL)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the sending worker once")
    parser.add_argument("--postgres", default=os.environ.get("PARBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child_worker())
        return 0
    if args.workers:
        return main_workers(args.recipients, args.workers, args.kill, args.postgres)
    if args.zalo:
        return main_zalo(args.recipients, args.zalo_rate)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        prepare(engine, args.recipients)
        with FakeBotApi(enforce_limits=True) as api:
            started = asyncio.run(deliver(engine, api))
            calls = [
                c
                for c in api.sent_messages()
                if c.method == "sendMessage" and c.chat_id != COORDINATOR_CHAT
            ]
            all_sends = [c.time for c in api.calls if c.method == "sendMessage" and c.ok]
            edits = [c for c in api.sent_messages(COORDINATOR_CHAT) if c.method != "sendMessage"]
            tally = [c.text for c in api.sent_messages(COORDINATOR_CHAT) if "Đã gửi xong" in c.text]
            count_429 = api.count_429
        with Session(engine) as session:
            statuses = outbox_repo.status_counts(session)
        engine.dispose()
    per_chat = Counter(int(c.chat_id) for c in calls)  # type: ignore[arg-type]
    chats = {FIRST_CHAT + n for n in range(args.recipients)}
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    lost = len(chats - set(per_chat))
    times = sorted(c.time for c in calls)
    sustained = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    wall = len(times) / (times[-1] - started) if times else 0.0
    print(f"recipients: {args.recipients}; delivered: {len(per_chat)}; outbox: {statuses}")
    print(f"messages/s: {sustained:.2f} sustained (first→last arrival), {wall:.2f} wall clock")
    print(f"429s received: {count_429}; duplicates: {duplicates}; lost: {lost}")
    print(f"busiest sliding second at the server: {busiest_second(all_sends)} sendMessage calls")
    print(f"progress edits: {len(edits)}; tally: {tally[-1].splitlines()[0] if tally else 'none'}")
    ok = sustained >= 28.5 and count_429 == 0 and duplicates == 0 and lost == 0
    print(f"target ≥ 28.5 msg/s, 0 duplicates, 0 lost, 0 429s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
