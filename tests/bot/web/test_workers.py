"""`parbot serve --workers N` as real processes on PostgreSQL: a webhook's 200 means the update
is committed (SIGKILL right after it loses nothing), setWebhook runs on the leader only, and
when the leader dies another worker takes over within 30 s and runs a due reminder sweep once.
SQLite refuses more than one worker, in Vietnamese."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from core.model import AssignmentRole, RuleKind
from storage import inbox
from storage.db import transaction
from storage.tables.chat import ProcessedUpdate
from storage.tables.scheduling import CalendarDay
from storage.tables.shared import Agency, Assignment, Outbox, Task
from tests.support.scheduling import VN, add_contact
from tests.support.workers import Workers, free_port, post_update, serve_env, wait_for_leader

PG = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


def test_more_than_one_worker_on_sqlite_is_refused_in_vietnamese(tmp_path, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # the CLI must not keep its own
    monkeypatch.setenv("PARBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PARBOT_WEB_LISTEN", "127.0.0.1:8099")
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "SQLite" in result.output and "PostgreSQL" in result.output
    assert "Không chạy được 2 tiến trình" in result.output


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@PG
def test_a_webhook_answered_200_survives_a_sigkill_right_after_and_is_processed_once(
    engine, fake_api, tmp_path
):
    api = fake_api
    env = serve_env(api.token, api.base_url, _url(engine), free_port())
    users = list(range(7001, 7013))
    with open(tmp_path / "workers.log", "w") as log:
        workers = Workers(1, env, tmp_path, log).start()
        try:
            deadline = time.monotonic() + 30
            while not api.webhook and time.monotonic() < deadline:
                time.sleep(0.05)
            assert api.webhook["url"] == f"{workers.url}/webhooks/telegram"
            assert int(api.webhook["max_connections"]) == 10
            updates = [api.make_command(user, "help") for user in users]
            with httpx.Client(base_url=workers.url, timeout=10) as client:
                codes = [post_update(workers.url, u, client) for u in updates]
            workers.kill_all()  # the instant the last 200 arrived: supervisor and workers
        finally:
            workers.stop()
        assert codes == [200] * len(users)
        # every update that was answered 200 is in the inbox, committed
        assert sum(inbox.counts(engine).values()) == len(users)
        with Session(engine) as session:
            done_before = set(session.exec(select(ProcessedUpdate.update_id)).all())

        again = Workers(1, env, tmp_path, log).start()  # a fresh start finds the rest
        try:
            deadline = time.monotonic() + 60
            while inbox.counts(engine)["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert inbox.counts(engine)["pending"] == 0
            time.sleep(1.0)
        finally:
            again.stop()
    ids = {str(u["update_id"]) for u in updates}
    with Session(engine) as session:
        processed = session.exec(select(ProcessedUpdate.update_id)).all()
    assert sorted(processed) == sorted(ids)  # each exactly once (it is the primary key)
    replies = Counter(c.chat_id for c in api.sent_messages())
    for update_ in updates:
        user = update_["message"]["chat"]["id"]
        assert replies[user] <= 1, f"{user} answered twice"
        if str(update_["update_id"]) not in done_before:
            assert replies[user] == 1, f"{user}: recorded before the kill, never answered"


def _working_today(engine) -> None:
    """Today is a working day (an admin's make-up day if need be), before any worker starts:
    a worker keeps the calendar it read for a minute."""
    today = datetime.now(VN).date()
    with transaction(engine) as session:
        session.add(CalendarDay(day=today, kind="work", note="kiểm thử"))


def _make_a_task_due_today(engine, agency: str = "STP") -> int:
    """The first dated task STP leads falls due today: the reminder sweep then owes STP's
    focal point a reminder."""
    today = datetime.now(VN).date()
    with transaction(engine) as session:
        task_id = session.exec(
            select(Task.id)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(
                Agency.code == agency,
                Assignment.role == AssignmentRole.LEAD.value,
                Task.rule_kind != RuleKind.RECURRING.value,
            )
            .order_by(Task.id)
        ).first()
        assert task_id is not None
        session.execute(update(Task).where(Task.id == task_id).values(due_date=today))
    return task_id


@PG
def test_when_the_leader_dies_another_worker_takes_over_and_sends_a_due_reminder_once(
    engine, fake_api, tmp_path
):
    api = fake_api
    add_contact(engine, "focal", "STP", "501")
    _working_today(engine)
    extra = {"PARBOT_SEND_START": "00:00", "PARBOT_SEND_END": "23:59"}
    extra["PARBOT_REMINDER_TIME"] = "00:00"
    env = serve_env(api.token, api.base_url, _url(engine), free_port(), **extra)
    with open(tmp_path / "workers.log", "w") as log:
        workers = Workers(2, env, tmp_path, log).start()
        try:
            leader = wait_for_leader(engine)
            assert leader in workers.pids()
            time.sleep(0.5)  # both workers are up: had the other called setWebhook, it shows
            assert len(api.calls_to("setWebhook")) == 1  # the leader's duty alone
            _make_a_task_due_today(engine)  # due now; the leader's next tick is minutes away
            workers.kill_worker(leader)
            killed_at = time.monotonic()
            successor = wait_for_leader(engine, other_than=leader, timeout=40)
            took_over = time.monotonic() - killed_at
            api.wait_for_message(501, contains="hạn", timeout=30)
            time.sleep(1.5)  # time enough for a second copy, if one were coming
        finally:
            workers.stop()
    assert successor != leader and took_over < 30
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.chat_id == "501")).all()
    reminders = [r for r in rows if r.kind == "reminder"]
    assert len(reminders) >= 1
    assert all(r.status == "sent" for r in rows)
    texts = [c.text for c in api.sent_messages(501)]
    assert len(texts) == len(rows), texts  # one message per outbox row: nothing twice
    assert len(set(texts)) == len(texts)
