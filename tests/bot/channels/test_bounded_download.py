"""An inbound file fetched by its temporary URL from the fake Zalo server over HTTP: the whole
body under the cap, nothing over it (a bomb costs at most the cap), nothing for a gone URL."""

from __future__ import annotations

import httpx

from bot.channels.bounded_download import bounded_download
from tests.fakes.zalo.bot import FakeZaloBot


async def test_a_file_is_fetched_whole_under_the_cap_and_refused_over_it() -> None:
    with FakeZaloBot() as zalo:
        small = zalo.make_image("u1", b"\xff\xd8" + b"a" * 5_000)["message"]["photo"]
        big = zalo.make_image("u1", b"\xff\xd8" + b"b" * 3_000_000)["message"]["photo"]
        async with httpx.AsyncClient() as http:
            assert await bounded_download(http, small, 10_000, "test") == b"\xff\xd8" + b"a" * 5_000
            assert await bounded_download(http, big, 1_000_000, "test") is None
            gone = f"{zalo.base_url}/files/0000000000000000.jpg"  # expired
            assert await bounded_download(http, gone, 10_000, "test") is None
            unreachable = "http://127.0.0.1:9/files/x.jpg"
            assert await bounded_download(http, unreachable, 10_000, "test") is None
