"""The JSON API (same document as `parbot report -f json`) and the operator's commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from core.clock import FixedClock
from core.model import UserRole
from storage.tables.web import WebSession
from tests.bot.web.support import BASE, client_of, contact, sign_in, signin_link, web_of

ROOT = Path(__file__).resolve().parents[3]


def parbot(engine, *args: str, web_url: str | None = BASE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    env.pop("PARBOT_WEB_LISTEN", None)
    if web_url:
        env["PARBOT_WEB_URL"] = web_url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )


async def test_the_api_answers_the_cli_json_report_to_a_live_token_only(engine):
    made = parbot(engine, "api", "token", "create", "--name", "so-tttt", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    cli = parbot(engine, "report", "-f", "json", "--area", "III", "--as-of", "2024-07-01")
    assert cli.returncode == 0, cli.stderr
    web = web_of(engine)
    async with client_of(web) as system:
        nobody = await system.get("/api/v1/report")
        wrong = await system.get("/api/v1/report", headers={"Authorization": "Bearer pbt_nope"})
        bearer = {"Authorization": f"Bearer {token}"}
        bad = await system.get("/api/v1/report?colour=red", headers=bearer)
        got = await system.get("/api/v1/report?area=III&as_of=2024-07-01", headers=bearer)
        spec = await system.get("/api/v1/openapi.json")
        assert (nobody.status_code, wrong.status_code, bad.status_code) == (401, 401, 400)
        assert got.status_code == 200
        served, printed = got.json(), json.loads(cli.stdout)
        served.pop("generated_at"), printed.pop("generated_at")  # the clocks differ, nothing else
        assert served == printed and served["tasks"]
        assert "/api/v1/report" in spec.json()["paths"]
        listed = parbot(engine, "api", "token", "list", "--json")
        [row] = json.loads(listed.stdout)
        assert token not in listed.stdout and row["last_used_at"] is not None
        assert parbot(engine, "api", "token", "revoke", str(row["id"])).returncode == 0
        revoked = await system.get("/api/v1/report", headers=bearer)
    assert revoked.status_code == 401


async def test_the_operator_gets_a_sign_in_link_and_can_end_sessions_and_unlink(engine):
    made = parbot(engine, "web", "link", "--agency", "SNV", "--role", "coordinator", "--json")
    assert made.returncode == 0, made.stderr
    url = json.loads(made.stdout)["url"]
    assert url.startswith(f"{BASE}/l/")
    web = web_of(engine, FixedClock(datetime.now(UTC)))  # the CLI runs on the real clock
    focal = contact(engine, 7201, "STP", UserRole.FOCAL, "Đầu Mối STP")
    async with client_of(web) as operator, client_of(web) as phone:
        await sign_in(operator, url)
        assert "Người vận hành" in (await operator.get("/")).text
        await sign_in(phone, signin_link(web, focal))
        listed = json.loads(parbot(engine, "web", "sessions", "--json").stdout)
        assert len(listed) == 2
        ended = parbot(engine, "web", "end", str(listed[0]["id"]))
        assert ended.returncode == 0, ended.stderr
        assert "Người vận hành" not in (await operator.get("/")).text
        unlinked = parbot(engine, "web", "unlink", str(focal))
        assert unlinked.returncode == 0 and "1 phiên" in unlinked.stdout
        assert "Đầu Mối STP" not in (await phone.get("/")).text
    with Session(engine) as session:
        assert all(s.ended_at is not None for s in session.exec(select(WebSession)))


def test_without_a_web_server_the_link_command_says_how_to_turn_it_on(engine):
    done = parbot(engine, "web", "link", "--role", "admin", web_url=None)
    assert done.returncode == 2 and "PARBOT_WEB_LISTEN" in done.stderr
