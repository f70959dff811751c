"""What a newcomer does with the README's Zalo steps, minus the terminals: the Bot Platform
channel built from settings (ZALO_BOT_TOKEN, ZALO_BOT_API_URL → the fake, polling), driven over
the fake's user endpoints as a script would: `/start CODE`, `/nhiemvu`, `/baocao` by typing
numbers and text, a receipt."""

from __future__ import annotations

import asyncio
import re

import httpx

from bot.app import build_app
from bot.channels.zalo_bot.service import ZaloBotService
from bot.settings import Settings
from core.clock import FixedClock
from core.model import UserRole
from tests.fakes.zalo.bot import FakeZaloBot
from tests.support.chat import T0, invite_code


class User:
    """A Zalo user played over `POST /_user/text` and `GET /_user/replies`."""

    def __init__(self, http: httpx.AsyncClient, user: str) -> None:
        self.http, self.user, self.since, self.last = http, user, 0, ""

    async def says(self, text: str, expect: str) -> str:
        sent = await self.http.post("/_user/text", json={"user": self.user, "text": text})
        assert sent.status_code == 200, sent.text
        said = ""
        async with asyncio.timeout(15):
            while expect not in said:
                await asyncio.sleep(0.1)
                got = (
                    await self.http.get(
                        "/_user/replies", params={"user": self.user, "since": self.since}
                    )
                ).json()
                said = "\n".join(r["text"] for r in got["replies"])
        self.since, self.last = got["next"], said
        return said

    def number(self, label: str) -> str:
        found = re.search(rf"^(\d+)\. [^\n]*{re.escape(label)}", self.last, flags=re.M)
        assert found, f"no numbered {label!r} in:\n{self.last}"
        return found.group(1)


async def test_a_newcomer_links_lists_and_reports_by_typing_against_the_fake(any_engine):
    with FakeZaloBot() as api:
        settings = Settings(_env_file=None, ZALO_BOT_TOKEN=api.token, ZALO_BOT_API_URL=api.base_url)
        service = ZaloBotService(build_app(settings, any_engine, FixedClock(T0)))
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        try:
            async with httpx.AsyncClient(base_url=api.base_url) as http:
                focal = User(http, "u1")
                code = invite_code(any_engine, "STP", UserRole.FOCAL)
                await focal.says(f"/start {code}", "Đã liên kết")
                await focal.says("/nhiemvu", "Nhiệm vụ của Sở Tư pháp")
                await focal.says("/baocao", "Chọn nhiệm vụ")
                await focal.says(focal.number("I.7"), "Tình trạng hiện nay")
                await focal.says(focal.number("Hoàn thành"), "mô tả ngắn")
                await focal.says("Đã hoàn thành 100% nhiệm vụ được giao", "Tỷ lệ")
                await focal.says("100", "Khó khăn")
                asked = await focal.says("Bỏ qua", "Tài liệu kiểm chứng")
                # no web server in these settings: the step says what to do instead of a link
                assert "chưa bật trang web" in asked and "/u/" not in asked
                await focal.says(focal.number("Bỏ qua"), "Xem lại báo cáo")
                said = await focal.says(focal.number("Gửi"), "Số biên nhận")
            assert re.search(r"Số biên nhận: BC-\d{4}-\d{6}", said)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=10)
