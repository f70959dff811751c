"""The served app (uvicorn): proxy headers believed only from trusted proxies."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select

from bot.web.server import listening
from storage.tables.shared import AuditLog
from tests.bot.test_run import free_port
from tests.bot.web.support import web_of


async def bad_link_from(engine, proxies: list[str]) -> str:
    port = free_port()
    web = web_of(engine)
    async with listening(web, "127.0.0.1", port, proxies=proxies), httpx.AsyncClient() as client:
        answer = await client.get(
            f"http://127.0.0.1:{port}/l/not-a-token", headers={"X-Forwarded-For": "203.0.113.9"}
        )
    assert answer.status_code == 404 and "không đúng" in answer.text
    with Session(engine) as session:
        row = session.exec(select(AuditLog).order_by(AuditLog.id.desc())).first()  # type: ignore[union-attr]
    assert row is not None
    return row.actor


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(engine):
    assert await bad_link_from(engine, []) == "web:127.0.0.1"
    assert await bad_link_from(engine, ["127.0.0.1"]) == "web:203.0.113.9"


async def test_unregistered_webhook_mount_points_answer_404_and_zalo_can_register(engine):
    from starlette.responses import PlainTextResponse

    from bot.web.hooks import Webhooks

    hooks = Webhooks()
    port = free_port()

    async def zalo(request):
        return PlainTextResponse("zalo")

    url = f"http://127.0.0.1:{port}/webhooks/zalo"
    served = listening(web_of(engine), "127.0.0.1", port, webhooks=hooks)
    async with served, httpx.AsyncClient() as client:
        before = await client.post(url, content=b"{}")
        assert hooks.register("zalo", zalo) == "/webhooks/zalo"
        after = await client.post(url, content=b"{}")
    assert (before.status_code, after.status_code, after.text) == (404, 200, "zalo")
