"""Extension requests (xin gia hạn): what a focal point may ask and what a coordinator decides.

A focal point asks to move its agency's deadline on one task to a later date, with a reason.
A coordinator approves (the pair's deadline moves: `core.evaluation` judges it against the new
date, the reminder ladder restarts from it) or refuses with a reason (nothing moves). Both are
told through the outbox and audited. The decision goes through `decide` here, so the role
rule holds whatever path the decision came by (a flow button, a typed number, a forged one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from core.auth import Refusal, may_decide_extension
from core.commands import Actor

MAX_MONTHS_AHEAD = 24  # a request further out than this is a typo, not a plan


class ExtensionStatus(StrEnum):
    PENDING = "pending"  # chờ quyết định
    APPROVED = "approved"  # chấp thuận
    REJECTED = "rejected"  # từ chối


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class ExtensionTask:
    """A task an agency may ask more time for: assigned, dated, not reported done."""

    task_id: int
    ref: str
    title: str
    deadline: date  # the pair's deadline now (an earlier extension included)
    pending: bool = False  # a request on it already waits for a decision


@dataclass(frozen=True)
class ExtensionRequestInfo:
    """One request as the chat shows it to coordinators and to the focal point."""

    id: int
    task_id: int
    ref: str
    title: str
    agency_id: int
    agency_name: str
    requested_by: str
    requested_at: datetime
    current_deadline: date | None
    new_date: date
    reason: str
    status: ExtensionStatus = ExtensionStatus.PENDING
    decided_by: str = ""
    refusal: str = ""


@dataclass(frozen=True)
class ExtensionDraft:
    agency_id: int
    task_id: int
    requested_by: int  # contact id
    new_date: date
    reason: str


class ExtensionRefused(Exception):
    """Storage or a rule refuses; `reason` is a reason code a template explains."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExtensionStore(Protocol):
    """The port of both flows (storage/extensions.py `SqlExtensionStore`)."""

    def tasks_for(self, agency_id: int, today: date) -> list[ExtensionTask]: ...

    def task(self, agency_id: int, task_id: int, today: date) -> ExtensionTask | None: ...

    def request(self, draft: ExtensionDraft, now: datetime) -> ExtensionRequestInfo: ...

    def next_pending(self, skipped: list[int]) -> ExtensionRequestInfo | None:
        """The oldest request still pending, leaving out those skipped in this session."""
        ...

    def pending_count(self) -> int: ...

    def decide(
        self, request_id: int, decision: Decision, decider_id: int, refusal: str, now: datetime
    ) -> ExtensionRequestInfo:
        """Record the decision (ExtensionRefused("decided") if someone decided it first)."""
        ...


def date_problem(new_date: date, today: date, deadline: date | None) -> str | None:
    """Why `new_date` cannot be asked for (a reason code), or None."""
    if new_date <= today:
        return "past"
    if deadline is not None and new_date <= deadline:
        return "not_later"
    months = (new_date.year - today.year) * 12 + new_date.month - today.month
    if months > MAX_MONTHS_AHEAD:
        return "too_far"
    return None


def decide(
    store: ExtensionStore,
    actor: Actor | None,
    request_id: int,
    decision: Decision,
    refusal: str,
    now: datetime,
) -> ExtensionRequestInfo | Refusal:
    """A coordinator's decision, or the `Refusal` of anyone else (nothing changes then)."""
    refused = may_decide_extension(actor)
    if refused is not None:
        return refused
    assert actor is not None
    return store.decide(request_id, decision, actor.contact_id, refusal, now)
