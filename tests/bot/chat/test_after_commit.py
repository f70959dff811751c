"""Slow read-only work runs after the update commits, so other users are not held back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlmodel import select

from bot.chat.dispatcher import Dispatcher
from core.clock import FixedClock
from core.commands import InputKind, Registry, Request
from core.outgoing import Outgoing
from storage.tables.shared import Task


def command(user: str, name: str, update_id: int) -> Request:
    return Request(
        "telegram", user, user, InputKind.COMMAND, command=name, dedupe_key=str(update_id)
    )


def test_after_commit_job_runs_outside_the_write_lock(engine):
    registry = Registry()
    dispatcher = Dispatcher(engine, registry, FixedClock(datetime(2024, 7, 1, 3, tzinfo=UTC)))
    other_finished = threading.Event()

    def other_user(_ctx):
        return Outgoing("xong")

    def slow_job(session):
        # Another user's update, handled while this job runs: it must not wait for us.
        worker = threading.Thread(
            target=lambda: dispatcher.handle(command("2", "nhanh", 2)) and other_finished.set()
        )
        worker.start()
        worker.join(timeout=5)
        tasks = len(session.exec(select(Task)).all())
        return [Outgoing(f"{tasks} nhiệm vụ")]

    def slow(ctx):
        ctx.after_commit(slow_job)
        return Outgoing("đang tổng hợp…")

    registry.add_command("cham", "chậm", slow, public=True)
    registry.add_command("nhanh", "nhanh", other_user, public=True)

    response = dispatcher.handle(command("1", "cham", 1))
    assert other_finished.is_set()
    assert [m.text for m in response.messages] == ["đang tổng hợp…", "69 nhiệm vụ"]

    # Deferred jobs can be left to the caller (the Telegram adapter runs them off the loop).
    response = dispatcher.handle(command("1", "cham", 3), run_deferred=False)
    assert len(response.deferred) == 1 and [m.text for m in response.messages] == ["đang tổng hợp…"]


def test_a_failing_job_answers_with_the_error_message(engine):
    registry = Registry()
    dispatcher = Dispatcher(engine, registry, FixedClock(datetime(2024, 7, 1, 3, tzinfo=UTC)))

    def broken(_session):
        raise RuntimeError("boom")

    def handler(ctx):
        ctx.after_commit(broken)
        return Outgoing("bắt đầu")

    registry.add_command("hong", "hỏng", handler, public=True)
    response = dispatcher.handle(command("1", "hong", 1))
    assert response.messages[0].text == "bắt đầu"
    assert len(response.messages) == 2 and response.messages[1].text != "bắt đầu"
