"""Schema upgrades through Alembic, configured in code so no alembic.ini has to be found."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run on every start.

    The history has one head: feature branches (0002 chat, 0003 scheduling) were joined by
    0004, and later migrations follow it in a line.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class SchemaState(StrEnum):
    MISSING = "missing"  # no database yet, or one with no parbot tables
    OUTDATED = "outdated"  # parbot tables at an older revision
    CURRENT = "current"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other engines and in-memory databases)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty: never upgraded)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def heads(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def schema_state(url: str, engine_of: Callable[[], Engine]) -> SchemaState:
    """Where the database at `url` stands, without creating a SQLite file that is not there
    (`engine_of` is called only when there is something to look at)."""
    path = sqlite_file(url)
    if path is not None and (not path.exists() or path.stat().st_size == 0):
        return SchemaState.MISSING
    engine = engine_of()
    current = revisions(engine)
    if not current:
        return SchemaState.MISSING
    return SchemaState.CURRENT if current >= heads(engine) else SchemaState.OUTDATED


def upgrade_reporting(engine: Engine) -> SchemaState:
    """`upgrade`, saying what it found: MISSING (the schema was created), OUTDATED (it was
    upgraded) or CURRENT (nothing to do)."""
    before = revisions(engine)
    if not before:
        found = SchemaState.MISSING
    elif before >= heads(engine):
        found = SchemaState.CURRENT
    else:
        found = SchemaState.OUTDATED
    upgrade(engine)
    return found
