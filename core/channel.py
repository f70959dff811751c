"""The one interface every chat channel (Telegram, Zalo, console) implements for sending.

Delivery code (the outbox worker) talks only to this, and reacts to the typed errors below;
adapters translate their platform's errors into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.outgoing import Outgoing


@dataclass(frozen=True)
class Sent:
    message_id: str


@dataclass(frozen=True)
class ChannelLimits:
    """Platform limits the delivery worker must respect (Telegram's by default)."""

    per_second: float = 30.0  # overall
    per_chat_per_second: float = 1.0  # one private chat
    group_per_minute: int = 20  # one group chat
    max_text: int = 4096


class DeliveryError(Exception):
    """Base class: the message was not delivered."""


class RetryAfter(DeliveryError):
    """The platform asks us to wait (Telegram 429 retry_after)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(DeliveryError):
    """5xx, timeouts, network errors: retry with backoff."""


class Blocked(DeliveryError):
    """The user blocked the bot (Telegram 403): mark the contact inactive."""


class ChatNotFound(DeliveryError):
    """The chat does not exist or the bot is not in it: permanent."""


class ChatMigrated(DeliveryError):
    """A group became a supergroup: resend to `new_chat_id` and remember it."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class PermanentError(DeliveryError):
    """Any other refusal (bad request): do not retry."""


class Channel(Protocol):
    name: str  # "telegram", "console", "zalo": matches Contact.channel and Outbox.channel
    limits: ChannelLimits

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        """Deliver one message, or raise a DeliveryError subclass."""
        ...

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        """Replace the text (and buttons) of a message this bot sent earlier."""
        ...
