"""Broadcast nudges (nhắc nhở): who receives them and how progress is shown.

A coordinator picks an audience, writes the text, sees how many people it reaches, confirms.
The progress message is edited as sending proceeds, but not for every message: Telegram
counts edits against the same limits as sends, so an edit goes out at most every few seconds
and always at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class AudienceKind(StrEnum):
    ALL_FOCAL = "all"  # every active focal point
    OVERDUE = "overdue"  # agencies with overdue items
    NOT_REPORTED = "round"  # not yet reported for round R (value: round code)
    AREA = "area"  # lead agencies of an area's tasks (value: area code, "III")
    KIND = "kind"  # a kind of agency (value: core.model.AgencyKind)
    PICKED = "picked"  # hand-picked agencies (value: agency codes)


@dataclass(frozen=True)
class Recipient:
    """One chat account a broadcast goes to: an active focal point of an audience agency."""

    contact_id: int
    channel: str
    chat_id: str
    agency_id: int | None


NEEDS_VALUE = {AudienceKind.NOT_REPORTED, AudienceKind.AREA, AudienceKind.KIND, AudienceKind.PICKED}


@dataclass(frozen=True)
class BroadcastAudience:
    kind: AudienceKind
    value: str | None = None
    codes: tuple[str, ...] = ()  # PICKED: agency codes

    def __post_init__(self) -> None:
        if self.kind is AudienceKind.PICKED and not self.codes:
            raise ValueError("a hand-picked audience needs at least one agency")
        if self.kind in NEEDS_VALUE - {AudienceKind.PICKED} and not self.value:
            raise ValueError(f"audience {self.kind.value!r} needs a value")

    def to_json(self) -> str:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.value:
            data["value"] = self.value
        if self.codes:
            data["codes"] = list(self.codes)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> BroadcastAudience:
        data = json.loads(raw)
        return cls(AudienceKind(data["kind"]), data.get("value"), tuple(data.get("codes") or ()))


@dataclass(frozen=True)
class ProgressPolicy:
    every: timedelta = timedelta(seconds=3)

    def should_edit(
        self, shown: int, done: int, total: int, last: datetime | None, now: datetime
    ) -> bool:
        """Edit when something changed and either the job is finished or `every` has passed."""
        if done == shown:
            return False
        if done >= total:
            return True
        return last is None or now - last >= self.every


@dataclass(frozen=True)
class Tally:
    total: int
    sent: int
    failed: dict[str, int]  # reason code → count
    pending: int

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def done(self) -> int:
        return self.sent + sum(self.failed.values())
