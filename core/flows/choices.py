"""Answers several coordinator flows share: agencies typed by name, kinds of agency, Gửi/Huỷ.

A coordinator names agencies the way they write them ("STP, Sở Tài chính"); each piece must
match exactly one agency, otherwise the flow asks again and lists the unclear pieces rather
than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.commands import ChatContext
from core.conversation import CANCEL, FINISH, Choice, Invalid, say
from core.model import AgencyKind

AgencyFinder = Callable[[str, int], list[tuple[str, str]]]  # (typed, limit) -> [(code, name)]
_SPLIT = re.compile(r"[,;\n]+")


def agency_codes(find: AgencyFinder, typed: str) -> list[str]:
    """Agency codes from typed names or codes ("STP, Sở Tài chính"); Invalid when unclear."""
    codes: list[str] = []
    unclear: list[str] = []
    for piece in (p.strip() for p in _SPLIT.split(typed)):
        if not piece:
            continue
        found = find(piece, 2)
        if len(found) != 1:
            unclear.append(piece)
        elif found[0][0] not in codes:
            codes.append(found[0][0])
    if unclear or not codes:
        raise Invalid(say("rounds/agencies_unclear.j2", pieces=unclear))
    return codes


def kind_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
    return [Choice(k.value, say("rounds/kind_label.j2", kind=k.value)) for k in AgencyKind]


def confirm_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
    return [Choice("ok", say("chat/button_send.j2")), Choice("no", say("chat/button_cancel.j2"))]


def after_confirm(data: dict[str, Any]) -> str:
    """The `next` of a confirm step: Gửi finishes the flow, Huỷ cancels it."""
    return FINISH if data["confirm"] == "ok" else CANCEL
