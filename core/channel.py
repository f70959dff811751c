"""The one interface every chat channel (Telegram, Zalo, console) implements for sending.

Delivery code (the outbox worker) talks only to this, and reacts to the typed errors below;
adapters translate their platform's errors into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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


class ButtonStyle(StrEnum):
    """How a platform lets a user pick one of a message's buttons."""

    INLINE = "inline"  # inline keyboard, the press arrives as callback data (Telegram)
    TAP_TEXT = "tap_text"  # a button whose tap sends a text message back (Zalo OA)
    NUMBERED = "numbered"  # no buttons: choices are a numbered list, the user types the number


class LengthUnit(StrEnum):
    """How a platform counts a message's length against its limit."""

    UTF16 = "utf16"  # Telegram: UTF-16 code units
    CODE_POINTS = "code_points"  # Zalo, the console: characters


@dataclass(frozen=True)
class Capabilities:
    """What a channel's platform can do; the dispatcher and the delivery worker choose the
    rendering from this, so no code outside the adapter asks which platform it is."""

    buttons: ButtonStyle = ButtonStyle.INLINE
    edits: bool = True  # can replace an earlier message's text (progress messages)
    documents: bool = True  # can carry files both ways; otherwise files travel as links
    # files a user sends reach the bot; otherwise the evidence step offers an upload link
    # (Zalo's Bot Platform: documents never arrive, only images)
    inbound_files: bool = True
    image_upload: bool = True  # can upload an image; otherwise only by public URL
    popups: bool = True  # short notices on a button press (Telegram's answerCallbackQuery)
    max_text: int = 4096
    length_unit: LengthUnit = LengthUnit.UTF16
    html: bool = True  # renders <b>, <i>; otherwise plain text


TELEGRAM_CAPABILITIES = Capabilities()
TEXT_CAPABILITIES = Capabilities(
    buttons=ButtonStyle.NUMBERED,
    edits=False,
    documents=False,
    inbound_files=False,
    image_upload=False,
    popups=False,
    max_text=2000,
    length_unit=LengthUnit.CODE_POINTS,
    html=False,
)


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


class MaybeDelivered(TransientError):
    """The request may have reached the platform (a timeout after the bytes left): never
    resend blindly. The adapter decides this from its own transport's errors."""


class Channel(Protocol):
    """A platform as the dispatcher and the delivery worker see it.

    Platform facts are the adapter's to state: what it can render (`capabilities`), how fast
    it may send (`limits`), which chats are groups (paced per minute, not per second), and how
    a person joins with an invite code. Nothing outside the adapter asks which platform it is.
    """

    name: str  # "telegram", "console", "zalo", "zalo_oa": matches Contact.channel, Outbox.channel
    limits: ChannelLimits
    capabilities: Capabilities

    def is_group(self, chat_id: str) -> bool:
        """Whether `chat_id` is a group chat (its own, slower rate limit)."""
        ...

    def invite_link(self, code: str) -> str | None:
        """A link that redeems `code` when opened (Telegram's t.me deep link); None when the
        platform has none and the person must send the code to the bot themselves."""
        ...

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        """Deliver one message, or raise a DeliveryError subclass."""
        ...

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        """Replace the text (and buttons) of a message this bot sent earlier."""
        ...
