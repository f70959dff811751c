"""Chat persistence: who is linked, where each user is in a flow, which updates were processed,
and the audit trail. Every function works inside the caller's session (one transaction per
update), so state, idempotency record and audit row commit together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.commands import Actor
from core.conversation import FlowState
from core.model import UserRole
from core.text import fold
from storage.tables import Agency, AuditLog, Contact
from storage.tables_chat import ChatFlow, ProcessedUpdate


@dataclass(frozen=True)
class ChatKey:
    """A conversation: one user in one chat of one channel."""

    channel: str
    chat_id: str
    user_id: str


def record_update(session: Session, channel: str, update_id: int, now: datetime) -> None:
    """Claim an update id; the flush raises IntegrityError when it was processed before.

    Written first in the transaction, so on SQLite the write lock is taken before anything is
    read (no stale-snapshot upgrade failures under concurrency).
    """
    session.add(ProcessedUpdate(channel=channel, update_id=update_id, processed_at=now))
    session.flush()


def prune_updates(session: Session, before: datetime) -> int:
    result = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def contact_for(session: Session, channel: str, user_id: str) -> Contact | None:
    return session.execute(
        select(Contact).where(Contact.channel == channel, Contact.user_id == user_id)
    ).scalar_one_or_none()


def actor_for(session: Session, channel: str, user_id: str) -> Actor | None:
    """The linked, active contact behind a chat account, with its agency."""
    row = session.execute(
        select(Contact, Agency)
        .join(Agency, Agency.id == Contact.agency_id, isouter=True)
        .where(Contact.channel == channel, Contact.user_id == user_id, Contact.active)
    ).first()
    if row is None:
        return None
    contact, agency = row
    return actor_of(contact, agency)


def actor_of(contact: Contact, agency: Agency | None) -> Actor:
    assert contact.id is not None
    return Actor(
        contact_id=contact.id,
        channel=contact.channel,
        user_id=contact.user_id,
        chat_id=contact.chat_id,
        role=UserRole(contact.role),
        agency_id=contact.agency_id,
        agency_code=agency.code if agency else None,
        agency_name=agency.name if agency else "",
        display_name=contact.display_name,
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


def load_flow(session: Session, key: ChatKey) -> tuple[ChatFlow, FlowState] | None:
    row = session.execute(
        select(ChatFlow).where(
            ChatFlow.channel == key.channel,
            ChatFlow.chat_id == key.chat_id,
            ChatFlow.user_id == key.user_id,
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return row, state_of(row)


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
    row: ChatFlow | None,
    labels: list[str] | None = None,
) -> ChatFlow:
    """Upsert the conversation row; `labels` (rendered option texts) go with the options."""
    if row is None:
        row = ChatFlow(channel=key.channel, chat_id=key.chat_id, user_id=key.user_id)
        session.add(row)
    row.flow, row.step, row.instance = state.flow, state.step, state.instance
    row.seq, row.page = state.seq, state.page
    row.started_at, row.updated_at = state.started_at, state.updated_at
    row.state = json.dumps(
        {"data": state.data, "options": state.options, "labels": labels or []},
        ensure_ascii=False,
    )
    return row


def option_labels(row: ChatFlow) -> list[str]:
    return list(json.loads(row.state or "{}").get("labels", []))


def delete_flow(session: Session, row: ChatFlow) -> None:
    session.delete(row)


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
