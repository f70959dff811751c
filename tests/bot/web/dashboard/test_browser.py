"""The dashboard in a real browser: Debian's Chromium driven by Playwright (no download).

A coordinator signs in through a sign-in link, opens *Ma trận*, filters to one area, opens an
agency, downloads the workbook (read back with openpyxl); a focal point gets the 403 page for
another agency. Screenshots go to $PARBOT_SCREENSHOTS when set (for looking at the pages).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import tests.support.reports as report_support
from bot.web.dashboard import ROUTES
from bot.web.server import listening
from core.model import UserRole
from core.report_model import Scope
from messages.reports.json_export import report_dict
from tests.bot.test_run import free_port
from tests.bot.web.dashboard.support import dashboard_web
from tests.bot.web.support import contact, signin_link
from tests.support.browser import ARGS, CHROMIUM, needs_chromium
from tests.support.reports import NOW, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytestmark = needs_chromium


@asynccontextmanager
async def served(web: Any) -> AsyncIterator[str]:
    port = free_port()
    web.public_url = f"http://127.0.0.1:{port}"
    async with listening(web, "127.0.0.1", port, routes=ROUTES):
        yield web.public_url


@asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def shot(page: Any, name: str) -> None:
    folder = os.environ.get("PARBOT_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


async def test_a_coordinator_filters_the_matrix_opens_an_agency_and_downloads_the_workbook(
    demo_engine, tmp_path
):
    web = dashboard_web(demo_engine)
    who = contact(demo_engine, 8201, "SNV", UserRole.COORDINATOR, "Trần Thị Điều Phối")
    expected = report_dict(compiled(demo_engine, Scope(area_code="II"), now=NOW))
    async with served(web), browser() as chromium:
        page = await (await chromium.new_context(accept_downloads=True)).new_page()
        await page.goto(signin_link(web, who))
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
        first = page.locator("#matrix tbody th a").first
        name = (await first.inner_text()).strip()
        await first.click()
        await page.wait_for_url("**/co-quan/**")
        assert name in await page.locator("h1").inner_text()
        await shot(page, "agency")
        await page.goto(f"{web.public_url}/tai-ve?linh_vuc=II")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Bảng tổng hợp (.xlsx)").click()
        download = await info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    cells = {
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    }
    assert saved.suffix == ".xlsx" and "II" in saved.name
    assert {t["ref"] for t in expected["tasks"]} <= cells


async def test_a_focal_point_gets_the_403_page_for_another_agency(demo_engine):
    web = dashboard_web(demo_engine)
    who = contact(demo_engine, 8202, "STP", UserRole.FOCAL, "Nguyễn Văn Đầu Mối")
    async with served(web), browser() as chromium:
        page = await chromium.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(signin_link(web, who))
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url("**/tong-quan")
        await shot(page, "phone-overview")
        await page.goto(f"{web.public_url}/ma-tran")
        await shot(page, "phone-matrix")
        answer = await page.goto(f"{web.public_url}/co-quan/SNV")
        assert answer is not None and answer.status == 403
        assert "Không có quyền" in await page.locator("h1").inner_text()
        await shot(page, "forbidden")
