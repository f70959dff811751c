"""The dashboard in a real browser: Debian's Chromium driven by Playwright (no download).

A coordinator asks for `/web` in Telegram (the real PTB application against the fake Bot
API), opens the link, signs in, opens *Ma trận*, filters it to one area, opens an agency and
downloads the workbook, read back with openpyxl: its counts are the JSON report's. One
Chromium for the module. Screenshots go to $PARBOT_SCREENSHOTS when set (to look at pages).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from sqlmodel import Session, select

import tests.support.reports as report_support
from bot.web.dashboard import ROUTES
from bot.web.server import listening
from core.clock import FixedClock
from core.model import ReportStatus, UserRole
from core.report_model import Scope
from messages.reports.json_export import report_dict
from storage.db import transaction
from storage.review.store import set_plan_review
from storage.tables.shared import Outbox, Plan
from tests.bot.test_run import free_port
from tests.bot.web.flows import links_in
from tests.bot.web.support import contact, web_of
from tests.storage.review.test_queue_kinds import MON, send_document
from tests.storage.review.test_review import file_report
from tests.support.browser import ARGS, CHROMIUM, needs_chromium
from tests.support.chat import ChatBot, texts
from tests.support.reports import NOW, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = [needs_chromium, pytest.mark.asyncio(loop_scope="module")]
VERDICTS = ["done_on_time", "done_late", "in_progress", "overdue", "not_reported"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def served(bot: ChatBot) -> AsyncIterator[str]:
    """The web companion with the dashboard on a free port, beside `bot`; yields its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    assert bot.dispatcher is not None
    bot.dispatcher.config = replace(bot.dispatcher.config, web_url=base)
    web = web_of(bot.engine, bot.clock, bot.dispatcher)
    web.public_url = base
    async with listening(web, "127.0.0.1", port, routes=ROUTES):
        yield base


async def shot(page: Any, name: str, full_page: bool = True) -> None:
    folder = os.environ.get("PARBOT_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def stats_tables(path: Path) -> list[list[int]]:
    """The total rows of the workbook's «Thống kê» tables: [total, one count per verdict]."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["Thống kê"].iter_rows(values_only=True))
    return [[int(n) for n in row[2:8]] for row in rows if row and row[0] == "Tổng cộng"]


async def test_a_coordinator_signs_in_from_chat_filters_the_matrix_and_downloads_the_workbook(
    demo_engine, fake_api, chromium, tmp_path
):
    contact(demo_engine, 8201, "SNV", UserRole.COORDINATOR, "Trần Thị Điều Phối")
    expected = report_dict(compiled(demo_engine, Scope(area_code="II"), now=NOW))["totals"]
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot, served(bot) as base:
        answer = await bot.command(8201, "web", expect="Liên kết đăng nhập")
        [url] = links_in(answer[-1].text)
        assert url.startswith(f"{base}/")
        page = await (await chromium.new_context(accept_downloads=True)).new_page()
        await page.goto(url)
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url("**/tong-quan")
        await shot(page, "overview")
        await page.get_by_role("link", name="Ma trận").click()
        await page.select_option("select[name=linh_vuc]", "II")
        await page.get_by_role("button", name="Lọc").click()
        await page.wait_for_url("**linh_vuc=II**")
        await shot(page, "matrix")
        refs = await page.locator("#matrix thead th[title]").all_inner_texts()
        assert refs and all(ref.strip().startswith("II.") for ref in refs)
        # every task's column lines up with its cells (one table cell per task)
        heads = page.locator("#matrix thead th[title]")
        cells = page.locator("#matrix tbody tr").first.locator("td")
        assert await cells.count() == len(refs)
        for i in (0, len(refs) - 1):
            head, cell = await heads.nth(i).bounding_box(), await cells.nth(i).bounding_box()
            assert head and cell and abs(head["x"] - cell["x"]) < 1
        first = page.locator("#matrix tbody th a").first
        name = (await first.inner_text()).strip()
        await first.click()
        await page.wait_for_url("**/co-quan/**")
        assert name in await page.locator("h1").inner_text()
        await shot(page, "agency")
        await page.goto(f"{base}/tai-ve?linh_vuc=II")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Bảng tổng hợp (.xlsx)").click()
        download = await info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
    assert saved.suffix == ".xlsx" and "II" in saved.name
    tasks, pairs, *_ = stats_tables(saved)
    assert tasks == [expected["tasks"]["total"], *(expected["tasks"][v] for v in VERDICTS)]
    assert pairs == [
        expected["lead_pairs"]["total"],
        *(expected["lead_pairs"][v] for v in VERDICTS),
    ]


async def test_a_coordinator_clears_a_document_and_a_difficulty_in_the_browser_then_duyet_is_empty(
    engine, fake_api, chromium
):
    """The agency page in Chromium: the document's file opens, «Đạt» decides it, the typed
    answer is sent; chat's `/duyet` then has nothing left, and the focal point heard both."""
    contact(engine, 8601, "SNV", UserRole.COORDINATOR, "Trần Thị Điều Phối")
    focal = contact(engine, 8602, "STP", UserRole.FOCAL, "Đầu mối Sở Tư pháp")
    document = send_document(engine, focal, MON)
    with transaction(engine) as session:  # the report needs no review: only its difficulty
        assert set_plan_review(session, session.exec(select(Plan.code)).one(), False)
    report = file_report(engine, "STP", "II.1.a", ReportStatus.BLOCKED, "Thiếu kinh phí", MON)
    async with ChatBot(fake_api, engine, FixedClock(NOW)) as bot, served(bot) as base:
        answer = await bot.command(8601, "web", expect="Liên kết đăng nhập")
        [url] = links_in(answer[-1].text)
        page = await (await chromium.new_context(accept_downloads=True)).new_page()
        await page.goto(url)
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url("**/tong-quan")
        await page.goto(f"{base}/co-quan/STP")
        await shot(page, "agency-review", full_page=False)  # the sections at the top
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Tải văn bản: ke-hoach.pdf").click()
        assert (await info.value).suggested_filename == "ke-hoach.pdf"
        await page.locator(f"#document-{document} button[value=accept]").click()
        await page.wait_for_url("**/co-quan/STP?xong=document_accept#van-ban")
        confirmed = await page.locator("#decided").inner_text()
        assert confirmed.startswith("Đã duyệt «Đạt» văn bản")
        await page.evaluate("window.scrollTo(0, 0)")
        await shot(page, "after-accept", full_page=False)
        await page.get_by_role("link", name="II.1.a — Thực hiện").click()  # to its answer form
        await shot(page, "agency-answer", full_page=False)
        await page.fill(
            f"#tra-loi-{report.report_id}", "Sở Tài chính bố trí kinh phí trong quý III."
        )
        await page.get_by_role("button", name="Gửi trả lời").click()
        await page.wait_for_url("**?xong=difficulty_answer#task-*")
        body = await page.locator("main").inner_text()
        assert "Đã gửi câu trả lời về khó khăn, vướng mắc" in body
        assert await page.locator("#decided").is_visible()
        await shot(page, "after-answer", full_page=False)  # at the task, the notice in view
        assert "Sở Tài chính bố trí kinh phí trong quý III." in body
        assert "Văn bản chờ duyệt" not in body and "chờ trả lời" not in body
        done = await bot.command(8601, "duyet", expect="Không có mục nào chờ xử lý")
        assert "Không có mục nào chờ xử lý" in texts(done)
    with Session(engine) as session:
        kinds = session.exec(select(Outbox.kind).where(Outbox.contact_id == focal)).all()
    assert sorted(kinds) == ["difficulty_answer", "document_accepted"]
