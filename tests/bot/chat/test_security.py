"""Security: forged buttons, invite codes (reuse, expiry, lockout), roles enforced in core."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from core.model import UserRole
from storage.chat.buttons import issue_button
from storage.chat.state import ChatKey, link_contact
from storage.db import transaction
from storage.tables.chat import ChatFlow, Invite
from storage.tables.shared import Agency, Assignment, AuditLog, Contact, StatusReport, Task
from tests.support.chat import T0, ChatBot, invite_code, texts

STP_USER, SNV_USER, COORD, STRANGER = 3001, 3002, 3003, 3999


def link(engine, user: int, agency: str | None, role: UserRole) -> int:
    with transaction(engine) as session:
        agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        contact = link_contact(
            session, ChatKey("telegram", str(user), str(user)), "", agency_id, role
        )
        return contact.id


def task_of(engine, agency: str, exclude: str | None = None) -> tuple[int, int]:
    """(task id, agency id) of a task assigned to `agency` and not to `exclude`."""
    with Session(engine) as session:
        agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        excluded: set[int] = set()
        if exclude:
            other = session.exec(select(Agency.id).where(Agency.code == exclude)).one()
            excluded = set(
                session.exec(select(Assignment.task_id).where(Assignment.agency_id == other))
            )
        task_ids = session.exec(
            select(Assignment.task_id).where(Assignment.agency_id == agency_id)
        ).all()
    return next(t for t in task_ids if t not in excluded), agency_id


def refusals(engine, action: str | None = None) -> list[AuditLog]:
    with Session(engine) as session:
        query = select(AuditLog).where(AuditLog.outcome == "refused")
        if action:
            query = query.where(AuditLog.action == action)
        return list(session.exec(query.order_by(AuditLog.id)))


def flows(engine) -> list[ChatFlow]:
    with Session(engine) as session:
        return list(session.exec(select(ChatFlow)))


async def test_forged_callbacks_for_another_agencys_task_are_refused_and_audited(engine, fake_api):
    api = fake_api
    stp_contact = link(engine, STP_USER, "STP", UserRole.FOCAL)
    snv_contact = link(engine, SNV_USER, "SNV", UserRole.FOCAL)
    snv_task, snv_id = task_of(engine, "SNV", exclude="STP")
    with transaction(engine) as session:
        # a genuine button of the SNV focal point, and one bound to STP that names SNV's task
        snv_token = issue_button(
            session, snv_contact, "report_task", {"task_id": snv_task, "agency_id": snv_id}, now=T0
        )
        wrong_agency = issue_button(
            session, stp_contact, "report_task", {"task_id": snv_task, "agency_id": snv_id}, now=T0
        )
    async with ChatBot(api, engine) as bot:
        await bot.command(STP_USER, "help", expect="/baocao")  # a message to press buttons on
        message_id = api.last_message(STP_USER).message_id

        def press(data: str) -> dict:
            return api.make_button_press(STP_USER, message_id, data)

        # (a) data made up by the client, naming another agency's task
        forged = json.dumps({"action": "report_task", "task_id": snv_task, "agency_id": snv_id})
        sent = await bot.send(press(forged[:64]))
        assert "không hợp lệ hoặc không dành cho bạn" in texts(sent)
        # (b) a real token, but issued to the SNV focal point
        sent = await bot.send(press(snv_token))
        assert "không dành cho bạn" in texts(sent)
        # (c) a token of this user naming a task of another agency: core's role rule refuses
        sent = await bot.send(press(wrong_agency))
        assert "không thuộc cơ quan của bạn" in texts(sent)
        # (d) a malformed flow option
        sent = await bot.send(press("f:zzzz:1:x"))
        assert "không hợp lệ" in texts(sent)
        answers = [c for c in api.calls_to("answerCallbackQuery") if c.ok]
        assert len(answers) == 4  # every press is answered (no spinning button)

    assert flows(engine) == [], "no report flow may start from a refused button"
    with Session(engine) as session:
        assert session.exec(select(StatusReport)).all() == []
    audit = refusals(engine)
    assert [(a.action, a.contact_id) for a in audit] == [
        ("button", stp_contact),
        ("button", stp_contact),
        ("report_task", stp_contact),
        ("button", stp_contact),
    ]
    assert audit[0].actor == f"telegram:{STP_USER}" and '"reason": "token"' in audit[0].detail
    assert audit[1].target == snv_token
    assert audit[2].target == f"task:{snv_task} agency:{snv_id}"
    assert '"reason": "other_agency"' in audit[2].detail
    assert all(a.at == T0 for a in audit)


async def test_report_button_of_own_task_opens_the_status_step(engine, fake_api):
    """The control for the test above: the same kind of button, legitimately issued, works."""
    api = fake_api
    contact = link(engine, STP_USER, "STP", UserRole.FOCAL)
    task_id, stp_id = task_of(engine, "STP")
    with transaction(engine) as session:
        token = issue_button(
            session, contact, "report_task", {"task_id": task_id, "agency_id": stp_id}, now=T0
        )
        ref = session.get(Task, task_id).ref
    async with ChatBot(api, engine) as bot:
        await bot.command(STP_USER, "help", expect="/baocao")
        message_id = api.last_message(STP_USER).message_id
        sent = await bot.send(api.make_button_press(STP_USER, message_id, token))
    assert f"Nhiệm vụ {ref}:" in texts(sent) and "Tình trạng hiện nay" in texts(sent)
    [flow] = flows(engine)
    assert (flow.flow, flow.step) == ("report", "status")
    assert refusals(engine) == []


async def test_invite_codes_single_use_expiry_and_lockout(engine, fake_api):
    api = fake_api
    good = invite_code(engine, "STP", UserRole.FOCAL)
    stale = invite_code(engine, "SNV", UserRole.FOCAL, now=T0 - timedelta(days=30))
    async with ChatBot(api, engine) as bot:
        # an unknown user without a code learns how to get one, and nothing else
        sent = await bot.command(STRANGER, "start", expect="mã mời")
        assert "/nhiemvu" not in texts(sent) and "Sở Tư pháp" not in texts(sent)
        sent = await bot.command(STRANGER, "baocao", expect="chưa được liên kết")

        await bot.command(STP_USER, "start", good, expect="Đã liên kết")
        # reused code
        sent = await bot.command(SNV_USER, "start", good, expect="đã được sử dụng")
        # expired code
        sent = await bot.command(SNV_USER, "start", stale, expect="đã hết hạn")
        # wrong codes until locked out (2 failures so far, 3 more lock)
        for left in (2, 1):
            await bot.command(SNV_USER, "start", "WRONGCODE23", expect=f"còn {left} lần thử")
        await bot.command(SNV_USER, "start", "WRONGCODE24", expect="quá nhiều lần")
        fresh = invite_code(engine, "SNV", UserRole.FOCAL)
        sent = await bot.command(SNV_USER, "start", fresh, expect="quá nhiều lần")
        # after the lock time the (still unused) code works
        bot.clock.advance(timedelta(minutes=31))
        sent = await bot.command(SNV_USER, "start", fresh, expect="Đã liên kết")
        assert "Sở Nội vụ" in texts(sent)

    with Session(engine) as session:
        contacts = {c.user_id: c for c in session.exec(select(Contact))}
        invites = session.exec(select(Invite).order_by(Invite.id)).all()
    assert set(contacts) == {str(STP_USER), str(SNV_USER)}
    assert [i.used_by is not None for i in invites] == [True, False, True]
    outcomes = [a.detail for a in refusals(engine, "invite_redeem")]
    assert [o.split('"status": ')[1].strip('"}') for o in outcomes] == [
        "used",
        "expired",
        "unknown",
        "unknown",
        "locked",
        "locked",
    ]


async def test_focal_point_cannot_run_coordinator_commands(engine, fake_api):
    api = fake_api
    link(engine, STP_USER, "STP", UserRole.FOCAL)
    coordinator = link(engine, COORD, "SNV", UserRole.COORDINATOR)
    async with ChatBot(api, engine) as bot:
        # a focal point's /moi invites only a deputy of its own agency (issue 13)
        sent = await bot.command(STP_USER, "moi", "SNV admin", expect="không mời được vai trò")
        assert "Mã mời" not in texts(sent)
        sent = await bot.command(STP_USER, "moi", "SNV", expect="chính cơ quan của mình")
        assert "Mã mời" not in texts(sent)
        # a coordinator may invite focal points, not admins, and cannot report
        await bot.command(COORD, "moi", "STP admin", expect="không có quyền")
        await bot.command(COORD, "baocao", expect="không có quyền")
        sent = await bot.command(COORD, "moi", "STP focal", expect="Mã mời")
    with Session(engine) as session:
        invites = session.exec(select(Invite)).all()
    assert [(i.role, i.created_by) for i in invites] == [("focal", f"telegram:{COORD}")]
    audit = refusals(engine)
    assert [(a.action, a.contact_id is not None) for a in audit] == [
        ("deputy_invite", True),
        ("deputy_invite", True),
        ("invite_create", True),
        ("command:/baocao", True),
    ]
    assert audit[3].contact_id == coordinator
