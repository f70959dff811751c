"""The inbox table: a re-delivery changes nothing, a chat reads back in the platform's order,
and on PostgreSQL one process at a time holds a chat."""

from __future__ import annotations

import pytest

from core.clock import SystemClock
from storage import inbox


def test_a_redelivered_update_is_recorded_once_and_read_back_in_order(any_engine):
    now = SystemClock().now()
    assert inbox.record(any_engine, "telegram", "12", "7", '{"n": 12}', now, seq=12)
    assert inbox.record(any_engine, "telegram", "11", "7", '{"n": 11}', now, seq=11)
    assert not inbox.record(any_engine, "telegram", "12", "7", '{"n": "again"}', now, seq=12)
    assert inbox.record(any_engine, "telegram", "13", "8", '{"n": 13}', now, seq=13)
    pending = inbox.pending_of(any_engine, "telegram", "7")
    assert [p.payload for p in pending] == ['{"n": 11}', '{"n": 12}']
    assert inbox.pending_chats(any_engine) == [("telegram", "7"), ("telegram", "8")]
    inbox.mark_done(any_engine, pending[0].id, now)
    assert [p.payload for p in inbox.pending_of(any_engine, "telegram", "7")] == ['{"n": 12}']
    assert inbox.counts(any_engine) == {"pending": 2, "processed": 1}


@pytest.mark.parametrize("any_engine", ["postgres"], indirect=True)
def test_only_one_process_at_a_time_holds_a_chat(any_engine):
    from storage.db import make_engine

    other = make_engine(str(any_engine.url.render_as_string(hide_password=False)))
    try:
        with inbox.chat_claim(any_engine, "telegram", "7") as first:
            assert first
            with inbox.chat_claim(other, "telegram", "7") as second:
                assert not second
            with inbox.chat_claim(other, "telegram", "8") as elsewhere:
                assert elsewhere
        with inbox.chat_claim(other, "telegram", "7") as after:
            assert after
    finally:
        other.dispose()
