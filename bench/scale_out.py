"""Scale-out on PostgreSQL: `parbot serve --workers N` (N = 1, 2, 4) under 1,000 simulated users
sending 10,000 updates through the Telegram webhook, with SIGKILLs; then one broadcast.

Per worker count, a fresh database and a fresh `parbot serve --workers N` (real processes; the
fake Bot API runs in a process of its own, the load in this one). Each user sends its updates
one after another as Telegram does (the next once the previous got its 200; a failed post is
sent again, like Telegram's re-delivery), over 10 connections (setWebhook's max_connections).
Each update is an unknown command `/sK`, whose reply names it, so the order of the replies in
each chat can be read back at the fake. During the run one worker is SIGKILLed at 30 % (a
non-leader when there are several), then the leader at 60 %; uvicorn's supervisor starts a new
worker (with one worker the bench restarts the process itself).

Printed per run: updates/s (first post → the last update processed, read from the database),
updates processed exactly once (the inbox and the dispatcher's processed-update rows, counted
in the database), replies in order per chat, re-posts, and replies missing (an update in flight
at a kill: recorded as processed, its reply never sent — at most the updates in hand).

Then once, with 2 workers and a SIGKILL at 40 % of the one holding the send lease: a
3,000-recipient broadcast to a fake that enforces Telegram's limits (429 above 30 msg/s overall,
1/s per chat): rate against 30/s, 429s (and, for each, where it fell), duplicates, lost among
confirmed sends, and the uncertain rows (in flight at the kill: listed, never resent). The
30 msg/s hold across workers only with the cross-worker send lease; with `--send-rate` each
worker paces itself and the fake answers 429s.

    PARBOT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/scale_out.py [--workers 1,2,4] [--users 1000] [--updates 10000]
        [--recipients 3000] [--no-broadcast] [--broadcast-only]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.broadcast import AudienceKind, BroadcastAudience  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.outgoing import Outgoing  # noqa: E402
from storage import inbox  # noqa: E402
from storage import outbox as outbox_repo  # noqa: E402
from storage.db import make_engine, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.scheduling.broadcast import Recipient, create_broadcast  # noqa: E402
from storage.tables.chat import ProcessedUpdate  # noqa: E402
from storage.tables.scheduling import CalendarDay  # noqa: E402
from storage.tables.shared import Contact  # noqa: E402
from tests.support.scheduling import VN  # noqa: E402
from tests.support.workers import (  # noqa: E402
    SECRET,
    Workers,
    free_port,
    leader_pid,
    serve_env,
)

FIRST_USER = 800_000
FIRST_RECIPIENT, COORDINATOR_CHAT = 500_000, 9_000
CONNECTIONS = 10  # = setWebhook max_connections
REPLY = re.compile(r"/s(\d+)\b")


# ------------------------------------------------------------------ the fake, in a process
def _fake_process(conn: Any, enforce: bool) -> None:
    from tests.fakes.botapi import FakeBotApi

    api = FakeBotApi(enforce_limits=enforce).start()
    conn.send((api.token, api.base_url))
    while True:
        command = conn.recv()
        if command == "stop":
            api.stop()
            conn.send("stopped")
            return
        if command == "sends":
            conn.send(
                (
                    [
                        (c.chat_id, c.text, c.time)
                        for c in api.calls
                        if c.method == "sendMessage" and c.ok
                    ],
                    api.count_429,
                    [(c.method, c.chat_id, c.time) for c in api.calls if c.status == 429],
                )
            )


class Fake:
    def __init__(self, enforce: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.proc = context.Process(target=_fake_process, args=(child, enforce), daemon=True)
        self.proc.start()
        self.token, self.base_url = self.conn.recv()

    def sends(self) -> Any:
        self.conn.send("sends")
        result = self.conn.recv()
        return result

    def stop(self) -> None:
        self.conn.send("stop")
        self.conn.recv()
        self.proc.join(10)


# ------------------------------------------------------------------ databases
def admin_engine(base: str) -> Any:
    url = base.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    return create_engine(f"{url}/postgres", isolation_level="AUTOCOMMIT")


def fresh_database(base: str, template: str) -> str:
    name = f"parbot_scale_{uuid.uuid4().hex[:8]}"
    with admin_engine(base).connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return f"{base.rsplit('/', 1)[0]}/{name}"


def drop_database(base: str, url: str) -> None:
    with admin_engine(base).connect() as connection:
        name = url.rsplit("/", 1)[1]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_template(base: str) -> str:
    name = f"parbot_scale_tpl_{uuid.uuid4().hex[:8]}"
    with admin_engine(base).connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{base.rsplit('/', 1)[0]}/{name}")
    upgrade(engine)
    today = datetime.now(VN).date()
    with transaction(engine) as session:  # broadcasts go out on working days: today is one
        session.add(CalendarDay(day=today, kind="work", note="bench"))
    engine.dispose()
    return name


# ------------------------------------------------------------------ the load
def update_of(update_id: int, user: int, k: int) -> dict[str, Any]:
    command = f"/s{k}"
    person = {"id": user, "is_bot": False, "first_name": f"Người {user}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": k,
            "from": person,
            "chat": {"id": user, "type": "private", "first_name": person["first_name"]},
            "date": int(time.time()),
            "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


class Load:
    def __init__(self, url: str, users: int, per_user: int) -> None:
        self.url = url
        self.users = [FIRST_USER + n for n in range(users)]
        self.per_user = per_user
        self.posted = 0
        self.reposts = 0
        self.first_post: float | None = None

    async def run(self) -> None:
        queue = deque(enumerate(self.users))
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with httpx.AsyncClient(
            base_url=self.url, limits=limits, timeout=15, headers=headers
        ) as client:

            async def sender() -> None:
                while queue:
                    index, user = queue.popleft()
                    for k in range(1, self.per_user + 1):
                        update_id = 10_000_000 + index * self.per_user + k
                        await self._post(client, update_of(update_id, user, k))

            await asyncio.gather(*(sender() for _ in range(CONNECTIONS)))

    async def _post(self, client: httpx.AsyncClient, update: dict[str, Any]) -> None:
        while True:  # Telegram sends again until it gets a 2xx
            if self.first_post is None:
                self.first_post = time.monotonic()
            try:
                response = await client.post("/webhooks/telegram", json=update)
                if response.status_code == 200:
                    self.posted += 1
                    return
            except httpx.HTTPError:
                pass
            self.reposts += 1
            await asyncio.sleep(0.2)


def processed(engine: Any) -> int:
    return inbox.counts(engine)["processed"]


async def killer(workers: Workers, engine: Any, total: int, log: list[str]) -> None:
    """SIGKILL a worker at 30 % (a non-leader when there are several), the leader at 60 %."""
    for fraction, whom in ((0.3, "worker"), (0.6, "leader")):
        while await asyncio.to_thread(processed, engine) < fraction * total:
            await asyncio.sleep(0.2)
        if workers.count == 1:
            assert workers.proc is not None
            pid = workers.proc.pid
            workers.kill_all()
            log.append(f"{whom} (the only one, pid {pid}) SIGKILLed at {fraction:.0%}")
            started = time.monotonic()
            await asyncio.to_thread(workers.start)
            log.append(f"restarted by the bench in {time.monotonic() - started:.1f} s")
            continue
        leader = await asyncio.to_thread(leader_pid, engine)
        pids = workers.pids()
        victim = leader if whom == "leader" else next(p for p in pids if p != leader)
        workers.kill_worker(victim)
        killed = time.monotonic()
        log.append(f"{whom} pid {victim} SIGKILLed at {fraction:.0%}")
        replaced = led = None
        now_leader: int | None = None
        while replaced is None or led is None:
            await asyncio.sleep(0.1)
            alive = [p for p in workers.pids() if p != victim]
            if replaced is None and len(alive) >= workers.count:
                replaced = time.monotonic() - killed  # the supervisor started a new process
            now_leader = await asyncio.to_thread(leader_pid, engine)
            if led is None and now_leader not in (None, victim):
                led = time.monotonic() - killed
        log.append(
            f"  new process started by uvicorn after {replaced:.1f} s; leader pid {now_leader} "
            f"({'took over ' if whom == 'leader' else 'unchanged, seen '}{led:.1f} s after)"
        )


async def updates_run(args: argparse.Namespace, base: str, template: str, n: int) -> dict:
    url = fresh_database(base, template)
    engine = make_engine(url)
    fake = Fake(enforce=False)
    total = args.users * args.per_user
    log: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="parbot-scale-"))
    env = serve_env(fake.token, fake.base_url, url, free_port(), PARBOT_LOG_LEVEL="WARNING")
    try:
        with open(folder / "workers.log", "w") as out:
            workers = Workers(n, env, folder, out)
            await asyncio.to_thread(workers.start, 180)
            load = Load(workers.url, args.users, args.per_user)
            kills = asyncio.create_task(
                asyncio.sleep(0) if args.no_kills else killer(workers, engine, total, log)
            )
            await load.run()
            deadline = time.monotonic() + 120
            while await asyncio.to_thread(processed, engine) < total:
                assert time.monotonic() < deadline, "not everything was processed in time"
                await asyncio.sleep(0.05)
            finished = time.monotonic()
            await kills
            await asyncio.sleep(2.0)  # replies of the last updates reach the fake
            workers.stop()
        sends, _, _ = fake.sends()
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(inbox.TABLE)).scalar_one()
            done = connection.execute(
                select(func.count()).select_from(ProcessedUpdate)  # type: ignore[arg-type]
            ).scalar_one()
        counts = inbox.counts(engine)
    finally:
        engine.dispose()
        fake.stop()
        drop_database(base, url)
    assert load.first_post is not None
    seconds = finished - load.first_post
    replies: dict[int, list[int]] = {}
    for chat, said, _ in sends:
        found = REPLY.search(said)
        if found:
            replies.setdefault(int(chat), []).append(int(found.group(1)))
    in_order = sum(1 for ks in replies.values() if ks == sorted(ks) and len(set(ks)) == len(ks))
    duplicates = sum(len(ks) - len(set(ks)) for ks in replies.values())
    received = sum(len(set(ks)) for ks in replies.values())
    return {
        "workers": n,
        "seconds": seconds,
        "rate": total / seconds,
        "total": total,
        "inbox_rows": rows,
        "processed": counts["processed"],
        "pending": counts["pending"],
        "dispatched": done,
        "chats": len(replies),
        "in_order": in_order,
        "duplicate_replies": duplicates,
        "missing_replies": total - received,
        "reposts": load.reposts,
        "log": log,
    }


# ------------------------------------------------------------------ the broadcast
def prepare_broadcast(url: str, count: int) -> None:
    engine = make_engine(url)
    now = SystemClock().now()
    with transaction(engine) as session:
        sender = Contact(
            channel="telegram", user_id=str(COORDINATOR_CHAT), chat_id=str(COORDINATOR_CHAT),
            role="coordinator", display_name="Sở Nội vụ",
        )  # fmt: skip
        session.add(sender)
        session.flush()
        session.execute(
            insert(Contact),
            [
                {"channel": "telegram", "user_id": str(FIRST_RECIPIENT + n),
                 "chat_id": str(FIRST_RECIPIENT + n), "display_name": "", "role": "focal",
                 "active": True, "digest_muted": False, "created_at": now}
                for n in range(count)
            ],
        )  # fmt: skip
        rows = session.execute(
            select(Contact.id, Contact.chat_id).where(Contact.role == "focal")  # type: ignore[arg-type]
        ).all()
        create_broadcast(
            session,
            audience=BroadcastAudience(AudienceKind.ALL_FOCAL),
            message=Outgoing("📢 Nhắc nhở từ Sở Nội vụ: đề nghị gửi báo cáo Quý III."),
            progress=Outgoing(f"📤 Nhắc nhở — Đã gửi 0/{count}…"),
            targets=[Recipient(cid, "telegram", chat, None) for cid, chat in rows],
            sender=sender,
            actor="bench",
            now=now,
        )
    engine.dispose()


def lease_holder(engine: Any) -> int | None:
    """The process id holding the Telegram send lease (send_budget.holder is "host:pid")."""
    with engine.connect() as connection:
        holder = connection.execute(
            text("SELECT holder FROM send_budget WHERE channel = 'telegram'")
        ).scalar()
    return int(holder.rsplit(":", 1)[1]) if holder else None


def outbox_counts(engine: Any) -> dict[str, int]:
    from sqlmodel import Session

    with Session(engine) as session:
        return outbox_repo.status_counts(session)


async def broadcast_run(args: argparse.Namespace, base: str, template: str) -> dict:
    url = fresh_database(base, template)
    prepare_broadcast(url, args.recipients)
    engine = make_engine(url)
    fake = Fake(enforce=True)
    folder = Path(tempfile.mkdtemp(prefix="parbot-scale-"))
    env = serve_env(
        fake.token, fake.base_url, url, free_port(), PARBOT_LOG_LEVEL="WARNING",
        PARBOT_SEND_START="00:00", PARBOT_SEND_END="23:59",
    )  # fmt: skip
    if args.send_rate is not None:
        env["PARBOT_SEND_RATE"] = str(args.send_rate)
    log: list[str] = []
    try:
        with open(folder / "workers.log", "w") as out:
            workers = Workers(2, env, folder, out)
            await asyncio.to_thread(workers.start, 180)
            killed, killed_at = False, 0.0
            deadline = time.monotonic() + args.recipients / 25 + 120
            while True:
                counts = await asyncio.to_thread(outbox_counts, engine)
                sent = counts.get("sent", 0)
                if not killed and sent >= 0.4 * args.recipients:
                    # the sender: the handover is the case to prove (no 429, none twice)
                    holder = await asyncio.to_thread(lease_holder, engine)
                    pids = workers.pids()
                    victim = holder if holder in pids else pids[0]
                    workers.kill_worker(victim)
                    killed_at = time.time()
                    killed = True
                    role = "the send lease holder" if holder == victim else "not the holder"
                    log.append(f"worker pid {victim} ({role}) SIGKILLed with {sent} sent")
                if not counts.get("pending") and killed:
                    break
                assert time.monotonic() < deadline, f"broadcast not finished: {counts}"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            workers.stop()
        sends, count_429, refused = fake.sends()
        ok_times = sorted(t for _, _, t in sends)
        for method, chat, at in refused:  # where a 429 fell, to find its cause
            before = sum(1 for t in ok_times if at - 1.0 < t <= at)
            log.append(
                f"429 to {method} for chat {chat}, {at - killed_at:+.3f} s from the kill; "
                f"accepted sends in the second before it: {before}"
            )
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT chat_id, status, error FROM outbox WHERE kind = 'broadcast'")
            ).all()
    finally:
        engine.dispose()
        fake.stop()
        drop_database(base, url)
    recipients = [s for s in sends if int(s[0]) != COORDINATOR_CHAT]
    per_chat = Counter(int(chat) for chat, _, _ in recipients)
    confirmed = {int(r[0]) for r in rows if r[1] == "sent"}
    uncertain = [
        (r[0], r[1]) for r in rows if r[1] == "sending" or (r[2] or "").startswith("uncertain")
    ]
    times = sorted(t for _, _, t in recipients)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "recipients": args.recipients,
        "delivered": len(per_chat),
        "rate": rate,
        "count_429": count_429,
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "lost_confirmed": len(confirmed - set(per_chat)),
        "uncertain": uncertain,
        "statuses": Counter(r[1] for r in rows),
        "log": log,
    }


# ------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--no-broadcast", action="store_true")
    parser.add_argument("--broadcast-only", action="store_true")
    parser.add_argument("--no-kills", action="store_true", help="throughput alone, no SIGKILL")
    parser.add_argument(
        "--send-rate",
        type=float,
        default=None,
        help="PARBOT_SEND_RATE per worker for the broadcast (e.g. 15: a static split of 30/s "
        "between 2 workers, for comparison while no cross-worker limiter exists)",
    )
    args = parser.parse_args()
    args.per_user = max(1, args.updates // args.users)
    base = os.environ.get("PARBOT_BENCH_POSTGRES_URL") or os.environ.get("PARBOT_TEST_POSTGRES_URL")
    if not base:
        print("set PARBOT_TEST_POSTGRES_URL (or PARBOT_BENCH_POSTGRES_URL): PostgreSQL only")
        return 2
    base = base.replace("postgresql+psycopg://", "postgresql://", 1)
    started = time.monotonic()
    template = make_template(base)
    ok = True
    try:
        results = []
        if not args.broadcast_only:
            for n in [int(x) for x in args.workers.split(",")]:
                result = asyncio.run(updates_run(args, base, template, n))
                results.append(result)
                print_updates(result)
                ok &= result["processed"] == result["total"] == result["dispatched"]
                ok &= result["in_order"] == result["chats"] and not result["duplicate_replies"]
            if results:
                first = results[0]["rate"]
                ratios = ", ".join(f"{r['workers']}: ×{r['rate'] / first:.2f}" for r in results)
                print(f"\nupdates/s relative to 1 worker — {ratios}")
        if not args.no_broadcast:
            result = asyncio.run(broadcast_run(args, base, template))
            print_broadcast(result)
            ok &= not result["duplicates"] and not result["lost_confirmed"]
            ok &= len(result["uncertain"]) <= 1 and not result["count_429"]
            ok &= result["rate"] >= 0.95 * 30
    finally:
        with admin_engine(base).connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    verdict = "met" if ok else "NOT met"
    print(f"\nwhole bench: {time.monotonic() - started:.0f} s; targets {verdict}")
    return 0 if ok else 1


def print_updates(r: dict) -> None:
    print(f"\n== {r['workers']} worker(s): {r['total']} updates from {r['chats']} chats")
    print(f"updates/s: {r['rate']:.1f} ({r['seconds']:.1f} s, first post → last processed)")
    print(
        f"processed exactly once (database): inbox rows {r['inbox_rows']}, processed "
        f"{r['processed']}, pending {r['pending']}, dispatcher update ids {r['dispatched']}"
    )
    print(
        f"replies in order per chat: {r['in_order']}/{r['chats']} chats; duplicate replies "
        f"{r['duplicate_replies']}; replies missing {r['missing_replies']}; "
        f"re-posts after a failed answer {r['reposts']}"
    )
    for line in r["log"]:
        print(f"  {line}")


def print_broadcast(r: dict) -> None:
    print(f"\n== broadcast, 2 workers, the sender SIGKILLed: {r['recipients']} recipients")
    for line in r["log"]:
        print(f"  {line}")
    print(f"delivered: {r['delivered']}; outbox: {dict(r['statuses'])}")
    print(f"messages/s: {r['rate']:.2f} ({r['rate'] / 30:.0%} of 30/s); 429s: {r['count_429']}")
    print(f"duplicates: {r['duplicates']}; lost among confirmed: {r['lost_confirmed']}")
    print(f"uncertain (in flight at the kill, not resent): {r['uncertain'] or 'none'}")


if __name__ == "__main__":
    raise SystemExit(main())
