"""Chat persistence: who is linked, where each user is in a flow, which updates were processed,
and the audit trail. Every function works inside the caller's session (one transaction per
update), so state, idempotency record and audit row commit together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.commands import Actor
from core.conversation import FlowState
from core.model import UserRole
from core.text import fold
from storage.tables.chat import ChatFlow, ProcessedUpdate
from storage.tables.shared import Agency, AuditLog, Contact


@dataclass(frozen=True)
class ChatKey:
    """A conversation: one user in one chat of one channel."""

    channel: str
    chat_id: str
    user_id: str


_INSERT_UPDATE = insert(ProcessedUpdate.__table__)
_ACTOR = (
    select(
        Contact.id,
        Contact.channel,
        Contact.user_id,
        Contact.chat_id,
        Contact.role,
        Contact.agency_id,
        Contact.display_name,
        Agency.code,
        Agency.name,
    )
    .join(Agency, Agency.id == Contact.agency_id, isouter=True)
    .where(
        Contact.channel == bindparam("channel"),
        Contact.user_id == bindparam("user_id"),
        Contact.active,
    )
)


def record_update(session: Session, channel: str, key: str, now: datetime) -> None:
    """Claim an update's de-duplication key; raises IntegrityError when it was processed before.

    Written first in the transaction, so on SQLite the write lock is taken before anything is
    read (no stale-snapshot upgrade failures under concurrency).
    """
    session.connection().execute(
        _INSERT_UPDATE, {"channel": channel, "update_id": str(key), "processed_at": now}
    )


def prune_updates(session: Session, before: datetime) -> int:
    result = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def contact_for(session: Session, channel: str, user_id: str) -> Contact | None:
    return session.execute(
        select(Contact).where(Contact.channel == channel, Contact.user_id == user_id)
    ).scalar_one_or_none()


def actor_for(session: Session, channel: str, user_id: str) -> Actor | None:
    """The linked, active contact behind a chat account, with its agency (one cached query)."""
    row = session.execute(_ACTOR, {"channel": channel, "user_id": user_id}).first()
    if row is None:
        return None
    contact_id, channel_, user, chat, role, agency_id, name, code, agency_name = row
    return Actor(
        contact_id=contact_id,
        channel=channel_,
        user_id=user,
        chat_id=chat,
        role=UserRole(role),
        agency_id=agency_id,
        agency_code=code,
        agency_name=agency_name or "",
        display_name=name,
    )


def link_contact(
    session: Session,
    key: ChatKey,
    display_name: str,
    agency_id: int | None,
    role: UserRole,
) -> Contact:
    """Create or update the contact of a chat account (one link per channel account)."""
    contact = contact_for(session, key.channel, key.user_id)
    if contact is None:
        contact = Contact(channel=key.channel, user_id=key.user_id, chat_id=key.chat_id, role=role)
        session.add(contact)
    contact.chat_id = key.chat_id
    contact.display_name = display_name[:200]
    contact.agency_id = agency_id
    contact.role = role.value
    contact.active = True
    session.flush()
    return contact


@dataclass
class FlowRecord:
    """The stored row of a conversation: its id and the labels of the last prompt's buttons."""

    id: int
    labels: list[str]


_FLOW = select(
    ChatFlow.id,
    ChatFlow.flow,
    ChatFlow.step,
    ChatFlow.instance,
    ChatFlow.seq,
    ChatFlow.page,
    ChatFlow.state,
    ChatFlow.started_at,
    ChatFlow.updated_at,
).where(
    ChatFlow.channel == bindparam("channel"),
    ChatFlow.chat_id == bindparam("chat_id"),
    ChatFlow.user_id == bindparam("user_id"),
)
_FLOWS = ChatFlow.__table__  # Core statements: no unit-of-work overhead on the hot path
_INSERT_FLOW = insert(_FLOWS)
_UPDATE_FLOW = update(_FLOWS).where(_FLOWS.c.id == bindparam("row_id"))
_MARK_SENT = (
    update(_FLOWS)
    .where(_FLOWS.c.id == bindparam("row_id"), _FLOWS.c.seq == bindparam("sent_seq"))
    .values(prompt_sent_seq=bindparam("sent_seq"))
)
_DELETE_FLOW = delete(_FLOWS).where(_FLOWS.c.id == bindparam("row_id"))


def load_flow(session: Session, key: ChatKey) -> tuple[FlowRecord, FlowState] | None:
    row = session.execute(
        _FLOW, {"channel": key.channel, "chat_id": key.chat_id, "user_id": key.user_id}
    ).first()
    if row is None:
        return None
    row_id, flow, step, instance, seq, page, raw, started_at, updated_at = row
    stored: dict[str, Any] = json.loads(raw or "{}")
    state = FlowState(
        flow=flow,
        step=step,
        data=stored.get("data", {}),
        instance=instance,
        started_at=started_at,
        updated_at=updated_at,
        seq=seq,
        page=page,
        options=stored.get("options", []),
    )
    return FlowRecord(row_id, list(stored.get("labels", []))), state


def state_of(row: ChatFlow) -> FlowState:
    stored: dict[str, Any] = json.loads(row.state or "{}")
    return FlowState(
        flow=row.flow,
        step=row.step,
        data=stored.get("data", {}),
        instance=row.instance,
        started_at=row.started_at,
        updated_at=row.updated_at,
        seq=row.seq,
        page=row.page,
        options=stored.get("options", []),
    )


def save_flow(
    session: Session,
    key: ChatKey,
    state: FlowState,
    record: FlowRecord | None,
    labels: list[str] | None = None,
) -> FlowRecord:
    """Insert or update the conversation row; `labels` (rendered option texts) go with it."""
    values = {
        "flow": state.flow,
        "step": state.step,
        "instance": state.instance,
        "seq": state.seq,
        "page": state.page,
        "started_at": state.started_at,
        "updated_at": state.updated_at,
        "state": json.dumps(
            {"data": state.data, "options": state.options, "labels": labels or []},
            ensure_ascii=False,
        ),
    }
    if record is not None:
        session.connection().execute(_UPDATE_FLOW, {"row_id": record.id, **values})
        return FlowRecord(record.id, labels or [])
    result = session.connection().execute(
        _INSERT_FLOW,
        {"channel": key.channel, "chat_id": key.chat_id, "user_id": key.user_id, **values},
    )
    return FlowRecord(int(result.inserted_primary_key[0]), labels or [])  # type: ignore[index]


def delete_flow(session: Session, record: FlowRecord | ChatFlow) -> None:
    assert record.id is not None
    session.connection().execute(_DELETE_FLOW, {"row_id": record.id})


def mark_prompt_sent(session: Session, row_id: int, seq: int) -> None:
    """The prompt number `seq` of flow row `row_id` reached the user (if still current)."""
    session.connection().execute(_MARK_SENT, {"row_id": row_id, "sent_seq": seq})


def unsent_prompts(
    session: Session, limit: int = 500, before: datetime | None = None
) -> list[ChatFlow]:
    """Flows whose latest prompt is not known to have been sent (a crash before the reply);
    with `before`, only those whose step was taken before then (not one a live process is
    answering right now)."""
    sent = ChatFlow.prompt_sent_seq
    query = select(ChatFlow).where(sent.is_(None) | (sent != ChatFlow.seq))
    if before is not None:
        query = query.where(ChatFlow.updated_at < before)
    return list(session.execute(query.order_by(ChatFlow.id).limit(limit)).scalars())


def idle_flows(session: Session, before: datetime, limit: int = 500) -> list[ChatFlow]:
    return list(
        session.execute(
            select(ChatFlow).where(ChatFlow.updated_at < before).order_by(ChatFlow.id).limit(limit)
        ).scalars()
    )


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    contact_id: int | None = None,
    now: datetime | None = None,
    **detail: Any,
) -> AuditLog:
    row = AuditLog(
        actor=actor[:120],
        contact_id=contact_id,
        action=action[:64],
        target=target[:300],
        outcome=outcome,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
    )
    if now is not None:
        row.at = now
    session.add(row)
    return row


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.execute(
        select(Agency).where(Agency.code == code.strip().upper())
    ).scalar_one_or_none()


def find_agencies(session: Session, typed: str, limit: int = 200) -> list[tuple[str, str]]:
    """(code, name) of active agencies matching `typed` by code, name or alias, best first.

    Diacritics and case do not matter ("tu phap" finds Sở Tư pháp); an exact code or name
    wins outright.
    """
    wanted = fold(typed)
    if not wanted:
        return []
    ranked: list[tuple[int, str, str]] = []
    for agency in session.execute(select(Agency).where(Agency.active)).scalars():
        forms = [fold(agency.name), *(fold(a) for a in agency.alias_list())]
        if fold(agency.code) == wanted or wanted in forms:
            return [(agency.code, agency.name)]
        if any(form.startswith(wanted) for form in forms):
            ranked.append((0, agency.name, agency.code))
        elif any(wanted in form for form in forms):
            ranked.append((1, agency.name, agency.code))
    ranked.sort()
    return [(code, name) for _, name, code in ranked[:limit]]


def linked_contacts(engine: Engine, channel: str) -> list[tuple[str, str]]:
    """(chat_id, role) of every active contact of a channel: to publish command menus."""
    with Session(engine) as session:
        rows = session.execute(
            select(Contact.chat_id, Contact.role)
            .where(Contact.channel == channel, Contact.active)
            .order_by(Contact.id)
        ).all()
    return [(chat_id, role) for chat_id, role in rows]
