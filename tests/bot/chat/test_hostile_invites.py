"""Invite guessing from many accounts: a global throttle that slows it, told to coordinators."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from core.model import UserRole
from storage.chat.invites import FIRST_WAIT, GLOBAL_FAILURES
from storage.tables.chat import InviteLockout
from storage.tables.shared import Contact, Outbox
from tests.bot.chat.test_security import link
from tests.support.chat import ChatBot, invite_code

COORD = 5001
GUESSERS = range(6000, 6060)  # 60 accounts
HONEST = 7001


def throttle_warnings(engine) -> list[Outbox]:
    with Session(engine) as session:
        query = select(Outbox).where(Outbox.kind == "invite_throttle").order_by(Outbox.id)
        return list(session.exec(query))


def locked_accounts(engine) -> list[InviteLockout]:
    with Session(engine) as session:
        query = select(InviteLockout).where(InviteLockout.locked_until.is_not(None))  # type: ignore[union-attr]
        return list(session.exec(query))


async def guess_all(bot: ChatBot, users, rounds: int) -> list[str]:
    """Every user sends `rounds` wrong codes, all queued at once; the replies, in any order."""
    api = bot.api
    updates = [
        api.make_command(user, "start", f"SAI{user}X{n}QWERTY")
        for n in range(rounds)
        for user in users
    ]
    mark = api.mark()
    for update in updates:
        bot.done.discard(update["update_id"])
        api.inject(update)
    for update in updates:
        await bot.processed(update, timeout=60)
    return [c.text for c in api.calls_to("sendMessage") if c.seq >= mark]


async def test_240_wrong_codes_from_60_accounts_slow_guessing_and_warn_coordinators(
    any_engine, fake_api
):
    api, engine = fake_api, any_engine
    link(engine, COORD, "SNV", UserRole.COORDINATOR)
    code = invite_code(engine, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        replies = await guess_all(bot, GUESSERS, rounds=4)
        assert len(replies) == 240
        checked = [r for r in replies if "Mã mời không đúng" in r]
        waited = [r for r in replies if "thử lại sau 15 giây" in r]
        # 30 wrong codes were checked, then no code at all until the wait is over
        assert len(checked) == GLOBAL_FAILURES and len(waited) == 240 - GLOBAL_FAILURES
        assert locked_accounts(engine) == []  # 4 wrong codes each: no account was locked
        # the honest agency is slowed, not locked out: it waits seconds, then gets in
        sent = await bot.command(HONEST, "start", code, expect="thử lại sau")
        assert "15 giây" in sent[-1].text
        bot.clock.advance(FIRST_WAIT + timedelta(seconds=1))
        await bot.command(HONEST, "start", code, expect="Sở Tư pháp")
        # guessing goes on: the next trip waits twice as long
        replies = await guess_all(bot, range(6100, 6110), rounds=4)
        assert sum("thử lại sau 30 giây" in r for r in replies) == 40 - GLOBAL_FAILURES
    with Session(engine) as session:
        honest = session.exec(select(Contact).where(Contact.user_id == str(HONEST))).one()
    assert honest.role == UserRole.FOCAL.value
    warnings = throttle_warnings(engine)
    assert len(warnings) == 2 and {w.chat_id for w in warnings} == {str(COORD)}
    first = json.loads(warnings[0].payload)["text"]
    assert "30 lần nhập sai mã mời" in first and "15 giây" in first
    assert "30 giây" in json.loads(warnings[1].payload)["text"]
