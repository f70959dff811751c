"""Evidence bytes for channels that send them back (a coordinator asks for a report's files)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.tables.shared import EvidenceFile


def evidence_loader(engine: Engine) -> Callable[[int], tuple[str, bytes]]:
    """`evidence_id -> (file name, bytes)`, for `TelegramChannel(load_evidence=…)`."""

    def load(evidence_id: int) -> tuple[str, bytes]:
        with Session(engine) as session:
            row = session.get(EvidenceFile, evidence_id)
            if row is None:
                raise LookupError(f"no evidence file {evidence_id}")
            return row.file_name, bytes(row.content)

    return load
