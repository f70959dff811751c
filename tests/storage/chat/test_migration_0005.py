"""Revision 0005 upgrades a database made by 0004 without losing what it held: processed update
ids become string keys, open flows count their prompts as sent, the choice table appears."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import PG_URL, _pg_admin, _pg_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def blank(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PARBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    name = f"parbot_m_{uuid.uuid4().hex[:10]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    yield engine
    engine.dispose()
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_0005_keeps_update_ids_and_counts_open_prompts_as_sent(blank):
    upgrade(blank, "0004")
    at = datetime(2024, 7, 1, 2, 0)
    with blank.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO chat_update (channel, update_id, processed_at)"
                " VALUES ('telegram', 10000000001, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO chat_flow (channel, chat_id, user_id, flow, step, instance, seq, page,"
                " state, started_at, updated_at) VALUES ('telegram', '5', '5', 'report', 'result',"
                " 'abc', 4, 0, '{}', :at, :at)"
            ),
            {"at": at},
        )
    upgrade(blank)
    with blank.connect() as conn:
        keys = conn.execute(text("SELECT channel, update_id FROM chat_update")).all()
        flows = conn.execute(text("SELECT seq, prompt_sent_seq FROM chat_flow")).all()
        choices = conn.execute(text("SELECT count(*) FROM chat_choice")).scalar_one()
    assert [(c, str(k)) for c, k in keys] == [("telegram", "10000000001")]
    assert isinstance(keys[0][1], str)
    assert flows == [(4, 4)] and choices == 0
