"""The web companion in a real browser: Debian's Chromium driven by Playwright (no download).

A person's path: `/web` in Telegram (the fake Bot API), open the link, press «Đăng nhập»; a
focal point trying another agency's page; a phone attaching a PDF to an open report through
its upload link, then finishing the report in chat; links used twice or too late.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import Session, select

from bot.web.server import listening
from core.model import UserRole
from storage.tables.shared import AuditLog, EvidenceFile
from tests.bot.test_run import free_port
from tests.bot.web.flows import at_evidence_step, deliver, links_in
from tests.bot.web.support import contact, web_of
from tests.support.browser import ARGS, CHROMIUM, needs_chromium
from tests.support.chat import ChatBot

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = [needs_chromium, pytest.mark.asyncio(loop_scope="module")]
COORDINATOR, FOCAL = 7301, 7302


@asynccontextmanager
async def served(bot: ChatBot) -> AsyncIterator[str]:
    """The web companion on a free port, continuing `bot`'s flows; yields its base URL."""
    from dataclasses import replace

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    assert bot.dispatcher is not None
    bot.dispatcher.config = replace(bot.dispatcher.config, web_url=base)
    web = web_of(bot.engine, bot.clock, bot.dispatcher)
    web.public_url = base
    async with listening(web, "127.0.0.1", port):
        yield base


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Any]:
    """One Chromium for the module: a launch costs seconds; each test opens its own context."""
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def web_link(bot: ChatBot, user: int) -> list[str]:
    answer = await bot.command(user, "web", expect="Liên kết đăng nhập")
    return links_in(answer[-1].text)


async def test_a_coordinator_signs_in_from_web_in_chat_and_a_reused_link_is_refused(
    engine, fake_api, chromium
):
    contact(engine, COORDINATOR, "SNV", UserRole.COORDINATOR, "Trần Thị Điều Phối")
    async with ChatBot(fake_api, engine) as bot, served(bot):
        [url] = await web_link(bot, COORDINATOR)
        desk = await (await chromium.new_context()).new_page()
        await desk.goto(url)
        await desk.click("#signin")
        await desk.wait_for_selector("h1")
        assert "Trần Thị Điều Phối" in await desk.inner_text("h1")
        assert "Điều phối viên" in await desk.inner_text("main")
        other = await (await chromium.new_context()).new_page()
        await other.goto(url)
        assert "đã được dùng" in await other.inner_text("main")
        [late] = await web_link(bot, COORDINATOR)
        bot.clock.advance(timedelta(minutes=11))
        await other.goto(late)
        assert "hết hạn" in await other.inner_text("main")


async def test_a_focal_point_is_refused_another_agencys_page(engine, fake_api, chromium):
    focal = contact(engine, FOCAL, "STP", UserRole.FOCAL, "Đầu Mối Tư Pháp")
    async with ChatBot(fake_api, engine) as bot, served(bot) as base:
        [url] = await web_link(bot, FOCAL)
        page = await (await chromium.new_context()).new_page()
        await page.goto(url)
        await page.click("#signin")
        await page.wait_for_selector("h1")
        response = await page.goto(f"{base}/co-quan/SYT")
        assert response is not None and response.status == 403
        assert "Không có quyền truy cập" in await page.inner_text("h1")
    with Session(engine) as session:
        refused = session.exec(select(AuditLog).where(AuditLog.action == "web.forbidden")).all()
    assert [(a.contact_id, a.target) for a in refused] == [(focal, "agency:SYT")]


async def test_an_upload_link_attaches_a_pdf_and_the_report_goes_on_in_chat(
    engine, fake_api, chromium, tmp_path
):
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% bien ban hop\n" + b"1" * 5000)
    async with ChatBot(fake_api, engine) as bot, served(bot) as base:
        await at_evidence_step(bot, FOCAL, base)
        _, upload = await web_link(bot, FOCAL)
        phone = await (
            await chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
        ).new_page()
        await phone.goto(upload)
        await phone.set_input_files("#files", str(pdf))
        await phone.click("#send")
        await phone.wait_for_selector("#received")
        assert "Đã nhận 1 tệp" in await phone.inner_text("#received")
        assert await deliver(bot) == 1
        await fake_api.await_message(FOCAL, contains="qua trang web")
        await bot.press(FOCAL, "Xong")
        await bot.press(FOCAL, "Gửi", expect="BC-")
        await phone.goto(upload)
        assert "đã gửi xong" in await phone.inner_text("main")
    with Session(engine) as session:
        saved = session.exec(select(EvidenceFile)).all()
    assert [(e.file_name, e.size) for e in saved] == [("bien-ban.pdf", pdf.stat().st_size)]
