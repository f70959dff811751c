"""Shared tables live in storage/tables.py; a feature keeps its own in storage/tables_<name>.py.

Alembic and the test fixtures need every table registered on SQLModel.metadata, whichever
modules the running code happened to import.
"""

from __future__ import annotations

import importlib
from pathlib import Path


def import_all_tables() -> None:
    for path in sorted(Path(__file__).parent.glob("tables*.py")):
        importlib.import_module(f"storage.{path.stem}")
