"""Every table, one module per feature: `shared.py` (plans, agencies, reports, outbox…),
`chat.py`, `scheduling.py`.

Alembic and the test fixtures need every table registered on SQLModel.metadata, whichever
modules the running code happened to import.
"""

from __future__ import annotations

import importlib
from pathlib import Path


def import_all_tables() -> None:
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem != "__init__":
            importlib.import_module(f"storage.tables.{path.stem}")
