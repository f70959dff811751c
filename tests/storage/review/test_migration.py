"""Migration 0013 on SQLite and PostgreSQL: reports filed before review existed count as
accepted, plans start with review on, and the downgrade takes it all back out."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from storage.migrate import upgrade
from tests.conftest import BACKENDS


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_reports_before_review_count_as_accepted(empty_engine):
    engine = empty_engine
    from alembic import command

    from storage.migrate import alembic_config

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO plan (id, code, title, year, number, symbol, issuer, source,"
                " imported_at) VALUES (1, 'P', 'Kế hoạch', 2024, '', '', '', '', "
                "CURRENT_TIMESTAMP)"
            )
        )
        db.execute(
            text("INSERT INTO area (id, plan_id, code, title, position) VALUES (1, 1, 'I', 'A', 0)")
        )
        db.execute(
            text(
                "INSERT INTO task (id, plan_id, area_id, ref, position, title, schedule, rule_kind,"
                " needs_coordinator, expected_output, lead_text, coordinating_text, unresolved)"
                " VALUES (1, 1, 1, 'I.1', 0, 'T', '', 'date', false, '', '', '', '')"
            )
        )
        db.execute(
            text(
                "INSERT INTO agency (id, code, name, kind, aliases, active)"
                " VALUES (1, 'STP', 'Sở Tư pháp', 'department', '', true)"
            )
        )
        db.execute(
            text(
                "INSERT INTO status_report (id, receipt, task_id, agency_id, version, is_latest,"
                " status, result, difficulties, submitted_at) VALUES (1, 'BC-1', 1, 1, 1, true,"
                " 'done', 'x', '', CURRENT_TIMESTAMP)"
            )
        )
    upgrade(engine)
    with engine.connect() as db:
        assert db.execute(
            text("SELECT review, review_reason, answer FROM status_report")
        ).one() == ("accepted", "", "")
        assert db.execute(text("SELECT review_reports FROM plan")).scalar_one() in (True, 1)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    columns = {c["name"] for c in inspect(engine).get_columns("status_report")}
    assert "review" not in columns and "answer" not in columns
    upgrade(engine)
