"""kill -9 between a step's commit and its reply: the restarted bot asks that question again.

A real `parbot run` process polls the fake Bot API. The reply to the press is held by the fake
(it answers 500 after a long delay, so nothing reaches the user) while the process is killed;
the step is committed by then. On restart the flow's latest prompt is not recorded as sent, so
it goes out through the outbox — exactly once.
"""

from __future__ import annotations

import signal
import subprocess
import time

from sqlmodel import Session, select

from core.model import UserRole
from storage.tables.chat import ChatFlow
from tests.bot.chat.test_security import link
from tests.support.run_process import open_status_step, start_run, stop_run

USER = 6101
QUESTION = "mô tả ngắn"  # the result step's question, asked after «Hoàn thành»


def start(engine, api, cwd) -> subprocess.Popen[str]:
    return start_run(engine, api, cwd, PARBOT_SEND_START="00:00", PARBOT_SEND_END="23:59")


def step_of(engine) -> tuple[str, int, int | None] | None:
    with Session(engine) as session:
        row = session.exec(select(ChatFlow)).first()
        return None if row is None else (row.step, row.seq, row.prompt_sent_seq)


def asked(api) -> list[str]:
    return [c.text for c in api.sent_messages(USER) if QUESTION in c.text]


def test_a_prompt_lost_to_kill_9_is_sent_once_after_restart(engine, fake_api, tmp_path):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    proc = start(engine, api, tmp_path)
    try:
        api.wait_for("getUpdates", timeout=60)
        status, done = open_status_step(api, USER, api.mark())
        # the reply to the press never arrives: held, then refused
        api.fail_next("sendMessage", status=500, delay=20, chat_id=USER)
        api.press_button(USER, status.message_id, done["callback_data"])
        deadline = time.monotonic() + 15
        while (step_of(engine) or ("",))[0] != "result" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert step_of(engine)[0] == "result"  # committed
        time.sleep(0.5)  # the reply is on its way, held by the fake
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
    assert asked(api) == []  # the user never saw the question
    step, seq, sent = step_of(engine)
    assert sent != seq  # and the database knows it was not sent

    again = start(engine, api, tmp_path)
    try:
        api.wait_for_message(USER, contains=QUESTION, timeout=30)
        time.sleep(2)  # a second copy would come within this
        assert len(asked(api)) == 1
        step, seq, sent = step_of(engine)
        assert step == "result" and sent == seq
    finally:
        stderr = stop_run(again)
    assert again.returncode == 0, stderr[-2000:]

    third = start(engine, api, tmp_path)  # a later start sends nothing more
    try:
        api.wait_for("getUpdates", since=api.mark(), timeout=60)
        time.sleep(2)
    finally:
        stop_run(third)
    assert len(asked(api)) == 1
