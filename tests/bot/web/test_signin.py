"""Sign-in links, sessions, logout, CSRF, the bad-link throttle and the scope rule (ASGI client)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, select

from core.model import UserRole
from storage.tables.shared import AuditLog
from storage.tables.web import WebLink, WebSession
from storage.web.tokens import THROTTLE_FAILURES, digest
from tests.bot.web.support import BASE, client_of, contact, sign_in, signin_link, web_of


def audits(engine, action: str) -> list[AuditLog]:
    with Session(engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == action)))


async def test_a_sign_in_link_opens_a_session_once_and_only_by_pressing_the_button(engine):
    web = web_of(engine)
    coordinator = contact(engine, 7001, "SNV", UserRole.COORDINATOR, "Lê Thị Điều Phối")
    url = signin_link(web, coordinator)
    async with client_of(web) as browser:
        preview = await browser.get(url.removeprefix(BASE))  # a messenger drawing a preview
        assert "Đăng nhập" in preview.text
        signed = await sign_in(browser, url)
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        home = await browser.get("/")
        assert "Lê Thị Điều Phối" in home.text and "Điều phối viên" in home.text
    async with client_of(web) as other:
        again = await other.get(url.removeprefix(BASE))
    assert again.status_code == 410 and "đã được dùng" in again.text
    with Session(engine) as session:
        stored = session.exec(select(WebSession)).one()
        token = url.rsplit("/", 1)[1]
        assert session.exec(select(WebLink)).one().token_hash == digest(token)
        assert token not in stored.token_hash
    assert [a.contact_id for a in audits(engine, "web.signin") if a.outcome == "ok"] == [
        coordinator
    ]


async def test_an_expired_link_is_refused_in_vietnamese_and_audited(engine):
    web = web_of(engine)
    focal = contact(engine, 7002, "STP", UserRole.FOCAL)
    url = signin_link(web, focal)
    web.clock.advance(timedelta(minutes=11))
    async with client_of(web) as browser:
        page = await browser.get(url.removeprefix(BASE))
    assert page.status_code == 410 and "hết hạn" in page.text
    refused = [a for a in audits(engine, "web.signin") if a.outcome == "refused"]
    assert refused and '"expired"' in refused[0].detail


async def test_a_tampered_link_is_refused_and_repeated_bad_links_are_blocked(engine):
    web = web_of(engine)
    focal = contact(engine, 7003, "STP", UserRole.FOCAL)
    url = signin_link(web, focal)
    tampered = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    async with client_of(web) as browser:
        first = await browser.get(tampered.removeprefix(BASE))
        assert first.status_code == 404 and "không đúng" in first.text
        for _ in range(THROTTLE_FAILURES - 1):
            await browser.get("/l/guess-" + "x" * 10)
        blocked = await browser.get(url.removeprefix(BASE))  # even the genuine link, for now
        assert blocked.status_code == 429 and "15 phút" in blocked.text
        web.clock.advance(timedelta(minutes=16))  # the block is over; a fresh link opens
        fresh = signin_link(web, focal)
        assert (await browser.get(fresh.removeprefix(BASE))).status_code == 200


async def test_logout_needs_the_csrf_token_and_ends_the_session(engine):
    web = web_of(engine)
    user = contact(engine, 7004, "SNV", UserRole.COORDINATOR, "Điều Phối")
    async with client_of(web) as browser:
        await sign_in(browser, signin_link(web, user))
        forged = await browser.post("/dang-xuat", data={"csrf": "wrong"})
        assert forged.status_code == 403
        assert "Điều Phối" in (await browser.get("/")).text
        home = await browser.get("/")
        csrf = home.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = await browser.post("/dang-xuat", data={"csrf": csrf})
        assert out.status_code == 200 and "Đã đăng xuất" in out.text
        browser.cookies.clear()
    with Session(engine) as session:
        assert session.exec(select(WebSession)).one().ended_at is not None


async def test_sessions_end_when_idle_and_at_their_absolute_limit(engine):
    web = web_of(engine)
    user = contact(engine, 7005, "SNV", UserRole.COORDINATOR, "Phiên")
    async with client_of(web) as browser:
        await sign_in(browser, signin_link(web, user))
        web.clock.advance(web.sessions.idle - timedelta(minutes=5))
        assert "Phiên" in (await browser.get("/")).text  # still in use: the idle clock restarts
        web.clock.advance(web.sessions.idle + timedelta(minutes=1))
        assert "/web" in (await browser.get("/")).text  # idle too long: signed out
        await sign_in(browser, signin_link(web, user))
        for _ in range(7):  # kept busy, but past the absolute limit
            web.clock.advance(timedelta(hours=1, minutes=50))
            page = await browser.get("/")
        assert "Phiên" not in page.text


async def test_a_focal_point_gets_403_for_another_agency_and_it_is_audited(engine):
    web = web_of(engine)
    focal = contact(engine, 7006, "STP", UserRole.FOCAL, "Đầu Mối")
    async with client_of(web) as browser:
        await sign_in(browser, signin_link(web, focal))
        own = await browser.get("/co-quan/STP")
        other = await browser.get("/co-quan/SYT")
    assert own.status_code == 200
    assert other.status_code == 403 and "Không có quyền truy cập" in other.text
    refused = audits(engine, "web.forbidden")
    assert [(a.contact_id, a.target) for a in refused] == [(focal, "agency:SYT")]


async def test_pages_carry_the_security_headers_and_no_inline_script(engine):
    web = web_of(engine)
    url = signin_link(web, contact(engine, 7007, "STP", UserRole.FOCAL))
    async with client_of(web) as browser:
        page = await browser.get(url.removeprefix(BASE))
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in page.text and "<script src=\"/static/parbot.js\"" in page.text


async def test_the_access_log_names_routes_never_tokens(engine, caplog):
    web = web_of(engine)
    url = signin_link(web, contact(engine, 7008, "STP", UserRole.FOCAL))
    token = url.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="parbot.web.access"):
        async with client_of(web) as browser:
            await sign_in(browser, url)
            cookie = browser.cookies.get("parbot_session")
            await browser.get("/")
    logged = caplog.text
    assert "route=/l/{token}" in logged and "route=/" in logged
    assert token not in logged and cookie and cookie not in logged
