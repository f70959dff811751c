"""`parbot invite create`, `parbot admin bootstrap`: codes, links, refusals that change nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from core.model import UserRole
from storage.chat.invites import hash_code
from storage.tables.chat import Invite
from tests.bot.chat.test_security import link


def run(engine, *args: str, username: str = "parbot_qn_bot"):
    env = {
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TELEGRAM_BOT_USERNAME": username,
        "TELEGRAM_BOT_TOKEN": "",
    }
    return CliRunner().invoke(cli, list(args), env=env)


def invites(engine) -> list[Invite]:
    with Session(engine) as session:
        return list(session.exec(select(Invite)))


def test_invite_create_prints_code_and_deep_link(any_engine):
    result = run(any_engine, "invite", "create", "--agency", "stp", "--role", "focal")
    assert result.exit_code == 0, result.output
    assert "Mã mời (đầu mối, Sở Tư pháp):" in result.stdout
    [invite] = invites(any_engine)
    code = result.stdout.split("Sở Tư pháp): ")[1].split()[0]
    assert invite.code_hash == hash_code(code) and invite.role == "focal"
    assert f"https://t.me/parbot_qn_bot?start={code}" in result.stdout

    as_json = run(
        any_engine,
        "invite",
        "create",
        "--agency",
        "SNV",
        "--role",
        "coordinator",
        "--expires",
        "12h",
        "--json",
    )
    data = json.loads(as_json.stdout)
    assert set(data) == {"code", "link"} and data["link"].endswith(data["code"])
    delta = invites(any_engine)[-1].expires_at - invites(any_engine)[-1].created_at
    assert delta.total_seconds() == 12 * 3600

    no_link = run(any_engine, "invite", "create", "--agency", "STP", "--json", username="")
    assert json.loads(no_link.stdout)["link"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "KHONGCO"], "không có cơ quan nào khớp “KHONGCO”"),
        (["--agency", "UBND tỉnh"], "chưa chỉ rõ một cơ quan; có thể là: Văn phòng UBND tỉnh"),
        (["--agency", "STP", "--role", "boss"], "vai trò “boss” không hợp lệ"),
        (["--agency", "STP", "--expires", "mai"], "thời hạn “mai” không hợp lệ"),
        (["--agency", "STP", "--expires", "400d"], "tối đa 90d"),
    ],
)
def test_bad_invite_requests_are_refused_and_change_nothing(any_engine, args, message):
    result = run(any_engine, "invite", "create", *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("Lỗi:")
    assert invites(any_engine) == []


def test_invites_take_agency_names_and_vietnamese_roles(any_engine):
    result = run(
        any_engine, "invite", "create", "--agency", "tư pháp", "--role", "lãnh đạo", "--json"
    )
    assert result.exit_code == 0, result.stderr
    (invite,) = invites(any_engine)
    assert invite.role == "leader"


def test_admin_bootstrap_once_unless_forced(any_engine):
    first = run(any_engine, "admin", "bootstrap", "--json")
    assert first.exit_code == 0 and json.loads(first.stdout)["code"]
    assert [i.role for i in invites(any_engine)] == ["admin"]
    link(any_engine, 9001, "SNV", UserRole.ADMIN)
    again = run(any_engine, "admin", "bootstrap")
    assert again.exit_code == 2 and "đã có quản trị viên" in again.stderr
    assert len(invites(any_engine)) == 1
    forced = run(any_engine, "admin", "bootstrap", "--force", "--agency", "SNV")
    assert forced.exit_code == 0 and len(invites(any_engine)) == 2
