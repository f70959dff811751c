"""HTTPS_PROXY: every platform client goes through the configured proxy (government networks).

The fakes are plain HTTP on 127.0.0.1, so a tiny counting forward proxy stands in for the
province's: what it saw proves the traffic took that path, and the fake's own record proves it
arrived. NO_PROXY is set empty on purpose — a test machine's default often lists localhost.
"""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.channels.outbound_proxy import bypassed, proxy_for
from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.delivery import delivery_channel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.settings import Settings
from core.outgoing import Outgoing
from tests.fakes.botapi import FakeBotApi
from tests.fakes.zalo.bot import FakeZaloBot
from tests.support.proxy import CountingProxy


@pytest.fixture
def proxy_env(monkeypatch):
    def configure(proxy: str | None, no_proxy: str = "") -> Settings:
        for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        if proxy is not None:
            monkeypatch.setenv("HTTPS_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        return Settings(_env_file=None)  # type: ignore[call-arg]

    return configure


async def test_the_delivery_bot_sends_through_the_proxy(proxy_env, empty_engine):
    with FakeBotApi() as api:
        async with CountingProxy() as proxy:
            settings = proxy_env(proxy.url)
            channel, bot = delivery_channel(
                api.token, api.base_url, empty_engine, proxy=proxy_for(settings, api.base_url)
            )
            async with bot:
                await channel.send("42", Outgoing("Xin chào qua máy chủ trung gian"))
    assert proxy.seen("/sendMessage") == 1
    assert [c.text for c in api.sent_messages(42)] == ["Xin chào qua máy chủ trung gian"]


async def test_the_chat_bot_on_aiohttp_goes_through_the_proxy(proxy_env):
    with FakeBotApi() as api:
        async with CountingProxy() as proxy:
            settings = proxy_env(proxy.url)
            request = AiohttpRequest(proxy=proxy_for(settings, api.base_url))
            bot = Bot(api.token, base_url=f"{api.base_url}/bot", request=request)
            async with bot:
                await bot.send_message(7, "Báo cáo đã nhận")
    assert proxy.seen("/getMe") == 1 and proxy.seen("/sendMessage") == 1
    assert api.last_message(7).text == "Báo cáo đã nhận"


async def test_the_zalo_bot_client_goes_through_the_proxy(proxy_env):
    with FakeZaloBot() as zalo:
        async with CountingProxy() as proxy:
            settings = proxy_env(proxy.url)
            client = ZaloBotClient(
                zalo.token, zalo.base_url, proxy=proxy_for(settings, zalo.base_url)
            )
            try:
                await client.send_message("u-1", "Nhắc nhở")
            finally:
                await client.aclose()
    assert proxy.seen("/sendMessage") == 1
    assert [c.text for c in zalo.sent("u-1")] == ["Nhắc nhở"]


async def test_without_a_proxy_or_for_a_no_proxy_host_clients_go_direct(proxy_env, empty_engine):
    with FakeBotApi() as api:
        async with CountingProxy() as proxy:
            for settings in (proxy_env(None), proxy_env(proxy.url, no_proxy="localhost,127.0.0.1")):
                chosen = proxy_for(settings, api.base_url)
                assert chosen is None
                channel, bot = delivery_channel(api.token, api.base_url, empty_engine, proxy=chosen)
                async with bot:
                    await channel.send("43", Outgoing("Trực tiếp"))
    assert proxy.requests == []
    assert len(api.sent_messages(43)) == 2


def test_no_proxy_reads_names_domains_ports_and_star():
    assert bypassed("api.telegram.org", ".telegram.org")
    assert bypassed("api.telegram.org", "telegram.org")
    assert bypassed("openapi.zalo.me", "localhost, openapi.zalo.me:443")
    assert bypassed("anything.example", "*")
    assert not bypassed("api.telegram.org", "gram.org,localhost")
    assert not bypassed("api.telegram.org", "")
