"""Shared fixtures: databases with the 2024 plan, on SQLite always and PostgreSQL when asked.

Seeding runs once per session into a template (a SQLite file, a PostgreSQL template
database); each test gets a fresh copy, so tests stay independent and fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import upgrade
from storage.seed import load_seed

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "storage" / "seed" / "quang-nam-2024"
PG_URL = os.environ.get("PARBOT_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return SEED


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    empty, seeded = folder / "empty.db", folder / "seeded.db"
    engine = make_engine(f"sqlite:///{empty}")
    upgrade(engine)
    engine.dispose()
    shutil.copy(empty, seeded)
    engine = make_engine(f"sqlite:///{seeded}")
    load_seed(engine, SEED)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return {"empty": empty, "seeded": seeded}


def _sqlite_copy(template: Path, tmp_path: Path) -> Engine:
    target = tmp_path / f"parbot-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(template, target)
    return make_engine(f"sqlite:///{target}")


def _pg_admin() -> Engine:
    assert PG_URL
    return create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def _pg_url(name: str) -> str:
    assert PG_URL
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[dict[str, str]]:
    if not PG_URL:
        pytest.skip("PARBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    admin = _pg_admin()
    suffix = uuid.uuid4().hex[:8]
    names = {"empty": f"parbot_tpl_empty_{suffix}", "seeded": f"parbot_tpl_seeded_{suffix}"}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    for kind, name in names.items():
        engine = make_engine(_pg_url(name))
        upgrade(engine)
        if kind == "seeded":
            load_seed(engine, SEED)
        engine.dispose()
    yield names
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class _PgCopies:
    def __init__(self) -> None:
        self.created: list[str] = []

    def make(self, template: str) -> Engine:
        name = f"parbot_t_{uuid.uuid4().hex[:10]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        self.created.append(name)
        return make_engine(_pg_url(name))

    def drop_all(self) -> None:
        with _pg_admin().connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _engine(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Iterator[Engine]:
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        templates = request.getfixturevalue("pg_templates")
        copies = _PgCopies()
        engine = copies.make(templates[kind])
        yield engine
        engine.dispose()
        copies.drop_all()
    else:
        templates = request.getfixturevalue("sqlite_templates")
        engine = _sqlite_copy(templates[kind], tmp_path)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with the schema and the 2024 seed (agencies, plan, rounds) on SQLite."""
    yield from _engine(request, "seeded", tmp_path)


@pytest.fixture
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with the schema only, on SQLite."""
    yield from _engine(request, "empty", tmp_path)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The seeded database on SQLite, and again on PostgreSQL when a server is configured."""
    yield from _engine(request, "seeded", tmp_path)


@pytest.fixture(params=BACKENDS)
def any_empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The schema only, on SQLite and on PostgreSQL when a server is configured."""
    yield from _engine(request, "empty", tmp_path)


@pytest.fixture
def fake_api() -> Iterator[object]:
    """An in-process fake Telegram Bot API server on 127.0.0.1 (see tests/fakes/botapi)."""
    from tests.fakes.botapi import FakeBotApi

    with FakeBotApi() as api:
        yield api
