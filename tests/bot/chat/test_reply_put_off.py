"""A reply the platform refuses for a moment (429, 5xx) is not dropped: it goes to the outbox
and arrives, once and in order, when the pause is over (bot/chat/replies.py).

A real `parbot run` process polls the fake Bot API; the fake refuses the first reply of a step.
"""

from __future__ import annotations

import time

from sqlmodel import Session, select

from core.model import UserRole
from storage.tables.shared import Outbox
from tests.bot.chat.test_prompt_after_crash import QUESTION, USER, asked, start, step_of
from tests.bot.chat.test_security import link
from tests.support.run_process import open_status_step, stop_run


def test_a_reply_refused_with_429_arrives_after_the_pause_once(engine, fake_api, tmp_path):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    proc = start(engine, api, tmp_path)
    try:
        api.wait_for("getUpdates", timeout=60)
        mark = api.mark()
        status, done = open_status_step(api, USER, mark)
        api.fail_next("sendMessage", status=429, retry_after=2, chat_id=USER)
        refused_at = time.monotonic()
        api.press_button(USER, status.message_id, done["callback_data"])
        api.wait_for_message(USER, contains=QUESTION, since=mark, timeout=20)
        waited = time.monotonic() - refused_at
        time.sleep(2)  # a second copy would come within this
    finally:
        stderr = stop_run(proc)
    assert api.count_429 == 1
    assert len(asked(api)) == 1  # the question came, once
    assert waited >= 1.5  # after the pause the platform asked for, not before
    step, seq, sent = step_of(engine)
    assert step == "result" and sent == seq  # and it is not asked again at the next start
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "reply")).all()
    assert [r.status for r in rows] == ["sent"] and QUESTION in rows[0].payload
    assert proc.returncode == 0, stderr[-2000:]
