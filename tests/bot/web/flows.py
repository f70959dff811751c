"""A focal point in the middle of a report, at the evidence step (for upload-link tests)."""

from __future__ import annotations

from dataclasses import replace

from core.model import UserRole
from tests.bot.web.support import contact
from tests.support.chat import ChatBot


async def at_evidence_step(bot: ChatBot, user: int, web_url: str) -> int:
    """Link `user` as STP's focal point and walk /baocao III.4.1 up to «Tài liệu kiểm chứng»."""
    assert bot.dispatcher is not None
    bot.dispatcher.config = replace(bot.dispatcher.config, web_url=web_url)
    contact_id = contact(bot.engine, user, "STP", UserRole.FOCAL, "Nguyễn Văn Đầu Mối")
    await bot.command(user, "baocao", "III.4.1", expect="Tình trạng hiện nay")
    await bot.press(user, "Hoàn thành", expect="mô tả ngắn")
    await bot.text(user, "Đã xong", expect="trên 95%")
    await bot.text(user, "99")
    await bot.text(user, "bỏ qua", expect="Tài liệu kiểm chứng")
    return contact_id


def links_in(text: str) -> list[str]:
    return [word for word in text.split() if word.startswith("http")]


async def deliver(bot: ChatBot) -> int:
    """One pass of the outbox worker to the fake Bot API (what `parbot run` does all along)."""
    from bot.channels.telegram.channel import TelegramChannel
    from core.calendar import WorkCalendar
    from scheduler.delivery import DeliveryWorker
    from storage.chat.evidence import evidence_loader

    channel = TelegramChannel(bot.app.bot, evidence_loader(bot.engine))
    worker = DeliveryWorker(bot.engine, {"telegram": channel}, bot.clock, WorkCalendar.of)
    result = await worker.run_once()
    return result.sent
