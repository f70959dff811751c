"""Helpers of the compiled-report tests: a seeded database with demo reports, built once.

The demo generator is deterministic, so one SQLite file per test session serves every test
that only reads; a test that writes gets its own copy.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from core.report_model import CompiledReport, Scope
from messages.reports.build import compile_report
from storage.db import make_engine, transaction
from storage.demo import seed_demo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = date(2025, 3, 31)
NOW = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, the day after AS_OF


@pytest.fixture(scope="session")
def demo_template(sqlite_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """A copy of the seeded template with `parbot demo seed`'s reports in it."""
    target = tmp_path_factory.mktemp("report") / "demo.db"
    shutil.copy(sqlite_templates["seeded"], target)
    engine = make_engine(f"sqlite:///{target}")
    with transaction(engine) as session:
        seed_demo(session, TZ)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return target


@pytest.fixture
def demo_engine(demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the demo database (tests may write to it)."""
    target = tmp_path / f"demo-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(demo_template, target)
    engine = make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


def compiled(engine: Engine, scope: Scope | None = None, now: datetime = NOW) -> CompiledReport:
    with transaction(engine) as session:
        return compile_report(session, scope or Scope(as_of=AS_OF), TZ, now)
