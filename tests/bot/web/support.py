"""Helpers of the web tests: a web companion on a test database, and linked contacts."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.web.app import create_app
from bot.web.context import WebContext
from bot.web.links import WebFileLinks, signin_url
from core.clock import FixedClock
from core.model import UserRole
from storage.chat.state import ChatKey, link_contact
from storage.db import transaction
from storage.tables.shared import Agency
from tests.support.chat import T0

BASE = "http://parbot.test"


def web_of(
    engine: Engine, clock: FixedClock | None = None, dispatcher: object = None
) -> WebContext:
    return WebContext(
        engine=engine,
        clock=clock or FixedClock(T0),
        public_url=BASE,
        link_ttl=timedelta(hours=24),
        dispatcher=dispatcher,
    )


def client_of(web: WebContext, **kwargs: object) -> httpx.AsyncClient:
    app = create_app(web)
    app.state.links = WebFileLinks(web)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 5000))
    return httpx.AsyncClient(transport=transport, base_url=BASE, **kwargs)


def contact(engine: Engine, user: int, agency: str | None, role: UserRole, name: str = "") -> int:
    with transaction(engine) as session:
        agency_id = None
        if agency:
            agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        key = ChatKey("telegram", str(user), str(user))
        row = link_contact(session, key, name, agency_id, role)
        assert row.id is not None
        return row.id


def signin_link(web: WebContext, contact_id: int) -> str:
    with transaction(web.engine) as session:
        return signin_url(session, web.public_url, contact_id, web.clock.now())


async def sign_in(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """Open the link, press «Đăng nhập»: what a person does."""
    path = url.removeprefix(BASE)
    shown = await client.get(path)
    assert shown.status_code == 200, shown.text
    csrf = shown.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return await client.post(path, data={"csrf": csrf})
