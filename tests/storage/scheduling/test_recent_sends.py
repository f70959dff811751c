"""What a worker taking over a channel's send budget counts of the previous holder's sends
(storage/sending.py `recent_sends`): each send at its latest stamp, never earlier than its
request can have left."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.clock import SystemClock
from core.outgoing import Outgoing
from storage import outbox as outbox_repo
from storage import sending as budget_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.tables.shared import Outbox


def _rows(engine: Engine, count: int) -> list[int]:
    now = SystemClock().now()
    with transaction(engine) as session:
        outbox_repo.enqueue_many(
            session,
            [
                OutboxItem(
                    key=f"recent:{n}", channel="telegram", chat_id=str(700 + n),
                    message=Outgoing(f"Tin {n}"), kind="reply",
                )
                for n in range(count)
            ],
            now,
        )  # fmt: skip
    with Session(engine) as session:
        return [r.id for r in session.exec(select(Outbox).order_by(Outbox.id)).all()]  # type: ignore[arg-type]


def test_a_send_counts_from_its_answer_not_its_claim(any_empty_engine: Engine) -> None:
    engine = any_empty_engine
    start = SystemClock().now()
    answered, in_flight, failed = _rows(engine, 3)
    # claimed, then a wait for the window and the round trip before the answer
    assert outbox_repo.claim(engine, answered, start)
    outbox_repo.mark_sent(engine, answered, "1", start + timedelta(milliseconds=300))
    # killed mid-send: the takeover marks it uncertain at the takeover's own time
    assert outbox_repo.claim(engine, in_flight, start)
    outbox_repo.recover_interrupted(engine, start + timedelta(seconds=1), None, "telegram")
    assert outbox_repo.claim(engine, failed, start)
    outbox_repo.mark_failed(engine, failed, "rejected", start + timedelta(milliseconds=50))

    recent = dict(budget_repo.recent_sends(engine, "telegram", start - timedelta(seconds=5)))

    assert recent == {
        "700": start + timedelta(milliseconds=300),
        "701": start + timedelta(seconds=1),
        "702": start + timedelta(milliseconds=50),
    }
    later = budget_repo.recent_sends(engine, "telegram", start + timedelta(milliseconds=100))
    assert sorted(chat for chat, _ in later) == ["700", "701"]
