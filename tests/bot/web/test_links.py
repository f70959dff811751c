"""Signed links: downloads for one contact, evidence uploads that continue the chat flow."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from bot.web.links import WebFileLinks
from core.model import UserRole
from core.outgoing import Document
from storage.db import transaction
from storage.tables.chat import PendingUpload
from storage.tables.shared import AuditLog, EvidenceFile, Outbox
from storage.web.tokens import unlink_contact
from tests.bot.web.flows import at_evidence_step, deliver, links_in
from tests.bot.web.support import BASE, client_of, contact, web_of
from tests.support.chat import ChatBot

FOCAL = 7101
PDF = b"%PDF-1.4\n% evidence\n" + b"0" * 2000


async def test_a_download_link_serves_the_file_for_a_day_and_dies_with_the_contact(
    engine, tmp_path
):
    web = web_of(engine)
    coordinator = contact(engine, 7100, "SNV", UserRole.COORDINATOR)
    report = tmp_path / "tong-hop.xlsx"
    report.write_bytes(b"PK\x03\x04 workbook")
    url = WebFileLinks(web).download(coordinator, Document("tong-hop.xlsx", path=str(report)))
    assert url is not None and url.startswith(f"{BASE}/f/")
    report.unlink()  # kept in the database: any worker serves it, the disk copy may go
    async with client_of(web) as phone:
        got = await phone.get(url.removeprefix(BASE))
        assert got.status_code == 200 and got.content == b"PK\x03\x04 workbook"
        assert "tong-hop.xlsx" in got.headers["content-disposition"]
        assert got.headers["referrer-policy"] == "no-referrer"
        with transaction(engine) as session:
            unlink_contact(session, coordinator, web.clock.now())
        gone = await phone.get(url.removeprefix(BASE))
    assert gone.status_code == 410
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "web.download")).all()
    outcomes = [(a.contact_id, a.outcome) for a in rows]
    assert outcomes == [(coordinator, "ok"), (coordinator, "refused")]
    assert '"revoked"' in rows[1].detail


async def test_a_download_link_expires_after_its_lifetime(engine, tmp_path):
    web = web_of(engine)
    coordinator = contact(engine, 7102, "SNV", UserRole.COORDINATOR)
    chart = tmp_path / "kq.pdf"
    chart.write_bytes(PDF)
    url = WebFileLinks(web).download(coordinator, Document("kq.pdf", path=str(chart)))
    assert url is not None
    async with client_of(web) as phone:
        assert (await phone.get(url.removeprefix(BASE))).content == PDF
        web.clock.advance(timedelta(hours=24, minutes=1))
        late = await phone.get(url.removeprefix(BASE))
    assert late.status_code == 410 and "hết hạn" in late.text


async def upload(client, url: str, files: list[tuple[str, bytes, str]]):
    page = await client.get(url.removeprefix(BASE))
    assert page.status_code == 200, page.text
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    parts = [("files", (name, content, mime)) for name, content, mime in files]
    return await client.post(url.removeprefix(BASE), data={"csrf": csrf}, files=parts)


async def test_an_upload_link_attaches_files_to_the_open_report_and_the_chat_goes_on(
    engine, fake_api
):
    async with ChatBot(fake_api, engine) as bot:
        web = web_of(engine, bot.clock, bot.dispatcher)
        contact_id = await at_evidence_step(bot, FOCAL, BASE)
        answer = await bot.command(FOCAL, "web", expect="Gửi tài liệu kiểm chứng")
        signin, upload_url = links_in(answer[-1].text)
        assert "/l/" in signin and "/u/" in upload_url
        async with client_of(web) as phone:
            done = await upload(
                phone,
                upload_url,
                [("ke-hoach.pdf", PDF, "application/pdf"), ("virus.exe", b"MZ", "application/x")],
            )
            assert done.status_code == 200 and "Đã nhận 1 tệp" in done.text
            assert "virus.exe" in done.text  # refused, with the chat's own reason
        with Session(engine) as session:
            kept = session.exec(select(PendingUpload)).all()
            queued = session.exec(select(Outbox).where(Outbox.chat_id == str(FOCAL))).all()
        assert [(u.file_name, u.size) for u in kept] == [("ke-hoach.pdf", len(PDF))]
        [message] = [json.loads(row.payload) for row in queued]
        assert "Đã nhận 1 tệp qua trang web: ke-hoach.pdf" in message["text"]
        assert "Xong" in [b["text"] for row in message["buttons"] for b in row]
        assert await deliver(bot) == 1
        await fake_api.await_message(FOCAL, contains="qua trang web")
        summary = await bot.press(FOCAL, "Xong")
        assert "ke-hoach.pdf" in summary[-1].text or "1 tệp" in summary[-1].text
        await bot.press(FOCAL, "Gửi", expect="BC-")
        with Session(engine) as session:
            saved = session.exec(select(EvidenceFile)).all()
            assert [(e.file_name, bytes(e.content)) for e in saved] == [("ke-hoach.pdf", PDF)]
            audited = session.exec(select(AuditLog).where(AuditLog.action == "web.upload")).one()
        assert audited.contact_id == contact_id
        evidence = WebFileLinks(web).download(
            contact_id, Document("ke-hoach.pdf", evidence_id=saved[0].id)
        )
        assert evidence is not None
        async with client_of(web) as phone:  # the report is sent: its link is dead
            late = await phone.get(upload_url.removeprefix(BASE))
            served = await phone.get(evidence.removeprefix(BASE))
        assert late.status_code == 410 and "đã gửi xong" in late.text
        assert served.content == PDF


async def test_an_upload_over_the_size_limit_is_stopped_as_it_arrives(engine, fake_api):
    async with ChatBot(fake_api, engine) as bot:
        web = web_of(engine, bot.clock, bot.dispatcher)
        web.limits = bot.limits.__class__(max_file_bytes=100_000)
        await at_evidence_step(bot, FOCAL, BASE)
        answer = await bot.command(FOCAL, "web", expect="Gửi tài liệu kiểm chứng")
        upload_url = links_in(answer[-1].text)[1]
        async with client_of(web) as phone:
            too_big = [("lon.pdf", b"%PDF" + b"1" * 300_000, "application/pdf")]
            big = await upload(phone, upload_url, too_big)
        assert big.status_code == 413 and "Tệp quá lớn" in big.text
        with Session(engine) as session:
            assert session.exec(select(PendingUpload)).all() == []
