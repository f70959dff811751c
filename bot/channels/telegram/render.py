"""Outgoing → Telegram: inline keyboards, and text cut to the platform's limits (UTF-16)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.channel import LengthUnit
from core.outgoing import Outgoing
from core.text_parts import shorten, split_text

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_TEXT = 60  # longer labels are cut by Telegram clients anyway


def keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_label(b.text), callback_data=b.data) for b in row]
            for row in message.buttons
            if row
        ]
    )


def _label(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_TEXT else text[: MAX_BUTTON_TEXT - 1] + "…"


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks so a long list becomes several messages, never a refused one."""
    return split_text(text, limit, LengthUnit.UTF16)


def fit(text: str, limit: int = MAX_TEXT) -> str:
    return shorten(text, limit, LengthUnit.UTF16)
