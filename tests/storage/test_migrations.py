"""The migration history has one head, and a database made by the older two-headed history
(the chat and scheduling branches, before 0004 joined them) upgrades to it cleanly."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.migrate import alembic_config, upgrade


def _versions(engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def test_history_has_one_head(empty_engine):
    script = ScriptDirectory.from_config(alembic_config(empty_engine))
    assert len(script.get_heads()) == 1


def test_database_at_the_old_two_heads_upgrades_to_the_one_head(tmp_path):
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        command.upgrade(config, "0003")
    assert _versions(engine) == {"0002", "0003"}
    upgrade(engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    assert _versions(engine) == {head}
    tables = set(inspect(engine).get_table_names())
    assert {"agency", "outbox", "chat_flow", "sched_reminder"} <= tables
    engine.dispose()
