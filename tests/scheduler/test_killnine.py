"""kill -9 in the middle of a 1,000-recipient broadcast, restart: one message per recipient.

The fake Bot API runs here; `parbot outbox deliver` runs as a real subprocess pointed at it.

What can be asserted honestly. Telegram's sendMessage has no idempotency key, and a bot cannot
read back what it sent, so for a request that was on its way at the moment of a kill nobody can
tell afterwards whether it arrived. The worker keeps that window to one request at a time — a
row is claimed right before its HTTP call, and the next claim waits until the HTTP client
reports the request written (≈2 ms here) — and after a restart marks a row left `sending` as
failed "uncertain" instead of sending it again (at most once, never twice).

* The acceptance test kills the worker mid-way at a moment outside that window — while it
  honours a 429 retry_after, with a third of the messages out — and asserts exactly one message
  per recipient and every row sent.
* The second test kills at an arbitrary moment and asserts what always holds: nobody gets two
  messages, nothing is lost unflagged, at most one row is uncertain (and exactly one message
  for everybody else).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, select

from core.broadcast import AudienceKind, BroadcastAudience
from core.calendar import WorkCalendar
from core.clock import SystemClock
from core.outgoing import Outgoing
from storage.db import transaction
from storage.scheduling.broadcast import create_broadcast, recipients
from storage.tables.shared import Agency, Contact, Outbox
from tests.fakes.botapi import FakeBotApi
from tests.support.scheduling import VN

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 1000
FIRST_CHAT = 10_000


def make_broadcast(engine, count: int = RECIPIENTS) -> int:
    now = SystemClock().now()
    with transaction(engine) as session:
        agencies = session.exec(select(Agency.id).order_by(Agency.id)).all()
        session.execute(
            insert(Contact),
            [
                {
                    "channel": "telegram",
                    "user_id": str(FIRST_CHAT + n),
                    "chat_id": str(FIRST_CHAT + n),
                    "display_name": f"Đầu mối {n}",
                    "agency_id": agencies[n % len(agencies)],
                    "role": "focal",
                    "active": True,
                    "digest_muted": False,
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
        coordinator = Contact(
            channel="telegram", user_id="9000", chat_id="9000", role="coordinator",
            display_name="Sở Nội vụ",
        )  # fmt: skip
        session.add(coordinator)
        session.flush()
        audience = BroadcastAudience(AudienceKind.ALL_FOCAL)
        targets = recipients(session, audience, now.astimezone(VN).date(), VN, WorkCalendar.of())
        assert len(targets) == count
        row = create_broadcast(
            session,
            audience=audience,
            message=Outgoing("📢 Đề nghị gửi báo cáo Quý III trước 30/09/2024."),
            progress=Outgoing("📤 Nhắc nhở — Đã gửi 0/1000…"),
            targets=targets,
            sender=coordinator,
            actor="test",
            now=now,
        )
        return row.id  # type: ignore[return-value]


def deliver(engine, api: FakeBotApi) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        PARBOT_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.base_url,
        PARBOT_LOG_LEVEL="WARNING",
        PARBOT_SEND_RATE="150",  # 30/s is the benchmark's business; here: crash safety
    )
    return subprocess.Popen(
        [
            sys.executable,
            *("-m", "bot.cli.schedule", "outbox", "deliver", "--until-empty", "--ignore-window"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def broadcast_counts(api: FakeBotApi) -> Counter[int]:
    return Counter(
        int(c.chat_id)  # type: ignore[arg-type]
        for c in api.sent_messages()
        if c.method == "sendMessage" and c.text.startswith("📢") and c.chat_id != 9000
    )


def rows_by_status(engine) -> tuple[Counter[str], set[int]]:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "broadcast")).all()
    assert all(r.error.startswith("uncertain") for r in rows if r.status == "failed")
    return Counter(r.status for r in rows), {int(r.chat_id) for r in rows if r.status == "failed"}


def wait_until(condition, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "delivery too slow"
        time.sleep(0.005)


def kill_and_restart(engine, api: FakeBotApi, condition) -> int:
    first = deliver(engine, api)
    wait_until(condition, first)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = sum(broadcast_counts(api).values())
    second = deliver(engine, api)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    time.sleep(0.2)
    return at_kill


def test_kill_9_mid_broadcast_then_restart_delivers_exactly_one_message_each(engine):
    make_broadcast(engine)
    chats = {FIRST_CHAT + n for n in range(RECIPIENTS)}
    with FakeBotApi() as api:
        # the 334th recipient's first attempt is answered 429: the worker pauses 3 s
        api.fail_next("sendMessage", status=429, retry_after=3, chat_id=FIRST_CHAT + 333)

        def pausing() -> bool:
            if api.count_429 == 0:
                return False
            time.sleep(0.5)  # requests already on the wire are answered meanwhile
            return True

        at_kill = kill_and_restart(engine, api, pausing)
        counts = broadcast_counts(api)
    statuses, uncertain = rows_by_status(engine)
    assert RECIPIENTS // 4 < at_kill < RECIPIENTS
    assert set(counts) == chats
    assert set(counts.values()) == {1}
    assert statuses == Counter({"sent": RECIPIENTS}) and not uncertain


def test_kill_9_at_any_moment_never_duplicates_and_flags_what_it_cannot_know(engine):
    count = 300
    make_broadcast(engine, count)
    chats = {FIRST_CHAT + n for n in range(count)}
    with FakeBotApi() as api:
        at_kill = kill_and_restart(
            engine, api, lambda: sum(broadcast_counts(api).values()) >= count // 3
        )
        counts = broadcast_counts(api)
    statuses, uncertain = rows_by_status(engine)
    assert at_kill < count
    assert max(counts.values()) == 1, "a recipient got the broadcast twice"
    assert set(statuses) <= {"sent", "failed"}, statuses
    lost = chats - set(counts)
    assert lost <= uncertain, "a message was lost without being flagged"
    assert len(lost) <= 1  # one claim at a time waits for its request to be written
    assert {c for c, n in counts.items() if n == 1} >= chats - uncertain
    print(
        f"killed after {at_kill}; rows {dict(statuses)}; uncertain {sorted(uncertain)}; "
        f"not delivered {sorted(lost)}"
    )
