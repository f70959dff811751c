"""Helpers shared by the scheduling tests: contacts, an in-memory channel, a clock in VN time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.channel import TELEGRAM_CAPABILITIES, Capabilities, ChannelLimits, DeliveryError, Sent
from core.outgoing import Outgoing
from storage.db import transaction
from storage.tables.shared import Agency, Contact

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FAST = ChannelLimits(per_second=10_000, per_chat_per_second=10_000, group_per_minute=1_000_000)


def vn(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime at `hour:minute` Vietnam time."""
    return datetime.combine(day, time(hour, minute), tzinfo=VN)


def add_contact(
    engine: Engine,
    role: str,
    agency: str | None,
    chat_id: str,
    name: str = "",
    channel: str = "telegram",
    **extra: object,
) -> int:
    with transaction(engine) as session:
        agency_id = None
        if agency:
            agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        contact = Contact(
            channel=channel,
            user_id=chat_id,
            chat_id=chat_id,
            display_name=name or f"{role} {agency or ''}".strip(),
            agency_id=agency_id,
            role=role,
            **extra,
        )
        session.add(contact)
        session.flush()
        return contact.id  # type: ignore[return-value]


def contact(engine: Engine, contact_id: int) -> Contact:
    with Session(engine) as session:
        row = session.get(Contact, contact_id)
        assert row is not None
        return row


@dataclass
class Delivered:
    chat_id: str
    message: Outgoing
    message_id: str


@dataclass
class MemoryChannel:
    """A Channel that records what it sends and raises what a test scripts for a chat."""

    name: str = "telegram"
    limits: ChannelLimits = FAST
    capabilities: Capabilities = TELEGRAM_CAPABILITIES
    sent: list[Delivered] = field(default_factory=list)
    edits: list[Delivered] = field(default_factory=list)
    faults: dict[str, list[DeliveryError]] = field(default_factory=dict)
    on_send: Callable[[str, Outgoing], None] | None = None
    _next_id: int = 100

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        queue = self.faults.get(chat_id)
        if queue:
            raise queue.pop(0)
        if self.on_send:
            self.on_send(chat_id, message)
        self._next_id += 1
        self.sent.append(Delivered(chat_id, message, str(self._next_id)))
        return Sent(str(self._next_id))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        self.edits.append(Delivered(chat_id, message, message_id))

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")  # the Telegram convention these tests script

    def invite_link(self, code: str) -> str | None:
        return None

    def to(self, chat_id: str) -> list[str]:
        return [d.message.text for d in self.sent if d.chat_id == chat_id]


def send_round_document(
    engine: Engine,
    agency: str,
    at: datetime,
    round_code: str = "KH-CAITHIEN-2024",
    status: str = "submitted",
) -> int:
    """A document sent for a round that asks for one (as the «Gửi văn bản» flow stores it)."""
    from storage.tables.round_documents import RoundSubmission
    from storage.tables.shared import ReportingRound

    with transaction(engine) as session:
        round_ = session.exec(select(ReportingRound).where(ReportingRound.code == round_code)).one()
        agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        row = RoundSubmission(
            receipt=f"VB-{agency}-{at.timestamp():.0f}",
            round_id=round_.id,
            agency_id=agency_id,
            period_deadline=round_.deadline,
            number=f"1/KH-{agency}",
            issued_on=at.date(),
            file_name="ke-hoach.pdf",
            size=9,
            sha256="0" * 64,
            content=b"%PDF-1.7\n",
            status=status,
            submitted_at=at,
        )
        session.add(row)
        session.flush()
        return row.id
