"""`parbot zalo oa connect`, `parbot invite create --channel zalo`, the quota in outbox status."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime

from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from storage.tables.zalo import ZaloOAuthPending
from storage.zalo.quota import count

runner = CliRunner()


def env_of(engine, **extra: str) -> dict[str, str]:
    return {
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_BOT_USERNAME": "",
        **extra,
    }


def test_oa_connect_prints_a_pkce_consent_url_and_keeps_the_verifier(engine):
    env = env_of(
        engine,
        ZALO_OA_APP_ID="3608",
        ZALO_OA_APP_SECRET="s3cr3t",
        ZALO_OAUTH_URL="https://oauth.example",
        PARBOT_WEB_URL="https://parbot.example.gov.vn",
    )
    result = runner.invoke(cli, ["zalo", "oa", "connect"], env=env)
    assert result.exit_code == 0, result.output
    url = next(w for w in result.stdout.split() if w.startswith("https://oauth.example"))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("https://oauth.example/v4/oa/permission?")
    assert query["app_id"] == "3608" and query["code_challenge"]
    assert query["redirect_uri"] == "https://parbot.example.gov.vn/oauth/zalo/callback"
    assert "s3cr3t" not in result.stdout
    with Session(engine) as session:
        pending = session.exec(select(ZaloOAuthPending)).one()
    assert pending.state == query["state"] and pending.code_verifier not in url


def test_oa_connect_without_settings_says_what_is_missing(engine):
    result = runner.invoke(cli, ["zalo", "oa", "connect"], env=env_of(engine))
    assert result.exit_code != 0 and "ZALO_OA_APP_ID" in result.output


def test_invite_for_zalo_has_no_telegram_link(engine):
    result = runner.invoke(
        cli,
        ["invite", "create", "--agency", "STP", "--channel", "zalo", "--json"],
        env=env_of(engine),
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"code"}
    result = runner.invoke(
        cli, ["invite", "create", "--agency", "STP", "--channel", "zalo"], env=env_of(engine)
    )
    assert "t.me" not in result.stdout and "/start " in result.stdout
    bad = runner.invoke(
        cli, ["invite", "create", "--agency", "STP", "--channel", "viber"], env=env_of(engine)
    )
    assert bad.exit_code != 0 and "zalo_oa" in bad.output


def test_outbox_status_shows_the_zalo_quota(engine):
    count(engine, "zalo", datetime.now(UTC), 2450)
    env = env_of(engine, ZALO_BOT_TOKEN="1:x")
    result = runner.invoke(cli, ["outbox", "status"], env=env)
    assert result.exit_code == 0, result.output
    assert "2450/3000" in result.stdout and "82%" in result.stdout
    assert "Sắp hết hạn mức" in result.stdout
    plain = runner.invoke(cli, ["outbox", "status"], env=env_of(engine))
    assert "Zalo Bot" not in plain.stdout


def test_phone_for_zns_is_validated(engine):
    bad = runner.invoke(cli, ["zalo", "phone", "--user", "u1", "--phone", "12"], env=env_of(engine))
    assert bad.exit_code != 0
    ok = runner.invoke(
        cli, ["zalo", "phone", "--user", "u1", "--phone", "+84 912 345 678"], env=env_of(engine)
    )
    assert ok.exit_code == 0 and "84912345678" in ok.stdout
