"""Closing the loop after a report: review (Đạt / Trả lại) and answers to difficulties.

The rules, in one place:

* **Review.** When a plan's "reports need review" is on (the default), a submitted report is
  *chờ duyệt* (`ReviewStatus.PENDING`) until a coordinator marks it **Đạt** (`ACCEPTED`) or
  **Trả lại** (`RETURNED`, with a reason). With review off a report is accepted as it is filed;
  reports filed before review existed count as accepted (migration 0013).
* **How each counts** (`core.evaluation` applies it, once, for every view): a *returned* report
  is not done, whatever it says — its verdict is that of a report that is not "done" (in
  progress within the deadline, overdue after it), and it breaks the run of "done" versions,
  so a later resubmission is dated by its own submission. A *pending* report counts by what it
  says, provisionally, and every view shows it as chờ duyệt: the agency answered on time, the
  coordinators' delay is not the agency's lateness; the tallies say how many "done" are still
  chờ duyệt. An *accepted* report keeps its submission time: accepted after the deadline, it is
  on time if it was submitted on time.
* **Difficulties.** A report that says «Gặp vướng mắc» or writes difficulties waits for an
  answer from the coordinators; the answer is stored with the report and sent to the agency.
  Unanswered after `DIFFICULTY_WORKING_DAYS` working days, it is listed in the coordinators'
  daily digest.
* **Who.** Only coordinators and administrators review and answer (`may_review`); anyone else
  pressing, typing or forging such an action is refused, audited, and nothing changes.

`/duyet` is one queue over several kinds of item. A kind (`QueueKind`) says which items wait,
how one is shown, what may be done with it and does it; `QueueKinds` holds the kinds in order.
Reports to review, difficulties to answer, extension requests to decide and round documents
to review are the kinds parbot ships (`messages/review.py` → `queue_for`); another kind is one
more class and one more entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from core.auth import Refusal
from core.calendar import WorkCalendar
from core.commands import Actor
from core.conversation import Text
from core.model import ReportStatus, UserRole
from core.outgoing import Outgoing

DIFFICULTY_WORKING_DAYS = 2  # unanswered longer than this → in the coordinators' digest


class ReviewStatus(StrEnum):
    PENDING = "pending"  # chờ duyệt
    ACCEPTED = "accepted"  # Đạt
    RETURNED = "returned"  # Trả lại


PENDING, ACCEPTED, RETURNED = ReviewStatus.PENDING, ReviewStatus.ACCEPTED, ReviewStatus.RETURNED
REVIEWERS = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})


def status_on_submit(plan_needs_review: bool) -> ReviewStatus:
    """A new report waits for review when its plan asks for it; otherwise it is accepted."""
    return PENDING if plan_needs_review else ACCEPTED


def counts_as_done(status: str, review: str) -> bool:
    """The one rule for "done": the report says done and was not returned."""
    return status == ReportStatus.DONE.value and review != RETURNED.value


def has_difficulty(status: str, difficulties: str) -> bool:
    """A report raises a difficulty by its status «Gặp vướng mắc» or by writing one."""
    return status == ReportStatus.BLOCKED.value or bool(difficulties.strip())


def may_review(actor: Actor | None) -> Refusal | None:
    """Only coordinators (and administrators) accept, return or answer."""
    if actor is None:
        return Refusal("unlinked")
    if actor.role not in REVIEWERS:
        return Refusal("not_coordinator", f"contact:{actor.contact_id}")
    return None


class DecisionRefused(Exception):
    """A decision storage would not make: not a reviewer, already decided, item gone.

    `reason` is a code the template `review/refused.j2` words in Vietnamese.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting in `/duyet`: its kind, its id within the kind, and since when."""

    kind: str
    key: str
    since: datetime  # aware UTC: the queue is oldest first across kinds


@dataclass(frozen=True)
class Action:
    """What may be done with an item: `text` asks a reason or an answer before doing it."""

    value: str  # "accept", "return", "answer"
    label: Text
    text: Text | None = None  # the question for the reason/answer; None: done at once


@dataclass(frozen=True)
class Decided:
    """What a decision did, for the reviewer's confirmation line and the audit row."""

    action: str
    target: str  # "report:BC-2024-000012"
    said: Text


class QueueKind(Protocol):
    """One kind of item in the review queue. Implementations live next to their storage and
    are built per update (they hold the update's session)."""

    name: str

    def waiting(self, limit: int) -> list[QueueItem]:
        """The oldest items of this kind still waiting (oldest first, at most `limit`)."""
        ...

    def show(self, key: str) -> Text | None:
        """The item as the reviewer reads it; None when it no longer waits."""
        ...

    def actions(self, key: str) -> Sequence[Action]:
        """What the reviewer may do with it (besides «Bỏ qua», which every item has)."""
        ...

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        """Do it, in the update's transaction; `DecisionRefused` when it cannot be done."""
        ...

    # Optional: `attachments(key) -> Sequence[Outgoing]`, files the reviewer may open (the
    # flow offers «Xem tài liệu» when there are any); see `attachments_of`.


def attachments_of(kind: QueueKind, key: str) -> Sequence[Outgoing]:
    """A kind may offer files to look at (a report's evidence) with `attachments(key)`:
    optional, so a kind without files needs nothing more."""
    attachments = getattr(kind, "attachments", None)
    return list(attachments(key)) if attachments is not None else []


def _utc(moment: datetime) -> datetime:
    """Kinds read their times from different tables; a naive one (SQLite) is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class QueueKinds:
    """The kinds `/duyet` goes through, in order of registration.

    Adding a kind: `kinds.add(MyKind(session))` where the feature builds the queue (see
    `bot/features/review.py` → `queue_of`). Nothing else changes.
    """

    def __init__(self, kinds: Iterable[QueueKind] = ()) -> None:
        self._kinds: dict[str, QueueKind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: QueueKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"queue kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def only(self, names: Iterable[str]) -> QueueKinds:
        """The same queue narrowed to some kinds (`/giahan`: extension requests alone)."""
        wanted = set(names)
        return QueueKinds(k for k in self._kinds.values() if k.name in wanted)

    def get(self, name: str) -> QueueKind | None:
        return self._kinds.get(name)

    def __iter__(self) -> Any:
        return iter(self._kinds.values())

    def head(self, skipped: Iterable[str] = (), limit: int = 50) -> QueueItem | None:
        """The oldest waiting item of any kind not in `skipped` ("kind:key" strings)."""
        seen = set(skipped)
        best: QueueItem | None = None
        for kind in self._kinds.values():
            for item in kind.waiting(limit + len(seen)):
                if f"{item.kind}:{item.key}" in seen:
                    continue
                if best is None or _utc(item.since) < _utc(best.since):
                    best = item
                break
        return best

    def count(self, limit: int = 1000) -> int:
        return sum(len(kind.waiting(limit)) for kind in self._kinds.values())


def decide(
    queue: QueueKinds,
    actor: Actor | None,
    kind_name: str,
    key: str,
    action: str,
    text: str,
    now: datetime,
) -> Decided:
    """The one entry for every review decision (chat and web): the role rule first, then
    only an action the item offers, then the kind does it. `DecisionRefused` otherwise."""
    refusal = may_review(actor)
    if refusal is not None:
        raise DecisionRefused(refusal.reason)
    assert actor is not None
    kind = queue.get(kind_name)
    if kind is None:
        raise DecisionRefused("unknown_item")
    offered = {a.value: a for a in kind.actions(key)}
    chosen = offered.get(action)
    if chosen is None:
        raise DecisionRefused("already_decided")
    if chosen.text is not None and not text.strip():
        raise DecisionRefused("no_text")
    return kind.decide(actor, key, action, text.strip(), now)


def answer_overdue(raised_on: date, today: date, calendar: WorkCalendar) -> bool:
    """A difficulty raised on `raised_on` (local date) is still waiting for its answer after
    more than `DIFFICULTY_WORKING_DAYS` full working days: the coordinators' digest lists it."""
    return calendar.working_days_between(raised_on, today) > DIFFICULTY_WORKING_DAYS
