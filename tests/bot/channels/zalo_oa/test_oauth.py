"""OAuth v4 + PKCE, and the rotating refresh token under a database lock."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.app import secrets_of
from bot.channels.zalo_oa.oauth import TokenLost, challenge_of
from bot.settings import Settings
from core.clock import FixedClock
from storage.tables.shared import Contact, Outbox
from storage.tables.zalo import ZaloOAToken, ZaloOAuthPending
from tests.bot.channels.zalo_oa.support import connect, service_for
from tests.fakes.zalo.oa import FakeZaloOA
from tests.support.chat import T0

USER = "246845883529197922"


def token_row(engine) -> ZaloOAToken:
    with Session(engine) as session:
        return session.exec(select(ZaloOAToken)).one()


async def test_connect_gives_a_pkce_consent_url_and_the_callback_stores_the_pair(any_engine):
    engine = any_engine
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        query = await connect(service, oa)
        assert query["app_id"] == oa.app_id
        assert query["redirect_uri"] == "https://parbot.example.gov.vn/oauth/zalo/callback"
        with Session(engine) as session:
            assert session.exec(select(ZaloOAuthPending)).all() == []  # the verifier is spent
        row = token_row(engine)
        assert row.access_token in oa.access and row.refresh_token in oa.refresh
        assert row.oa_id == oa.oa_id and row.state == "ok"
        assert row.access_expires_at == T0 + timedelta(seconds=oa.expires_in)
        # a replayed or forged callback changes nothing
        status, _ = await service.oauth_callback({"code": "x", "state": query["state"]})
        assert status == 400 and token_row(engine).access_token == row.access_token
        # the challenge is S256 of a verifier the server never showed
        assert len(query["code_challenge"]) == len(challenge_of("x"))
        await service.aclose()


async def test_access_token_is_refreshed_ahead_of_expiry_and_the_pair_rotates(any_engine, caplog):
    engine = any_engine
    caplog.set_level(logging.DEBUG)  # every library's debug lines too
    with FakeZaloOA() as oa:
        clock = FixedClock(T0)
        service = service_for(oa, engine, clock)
        await connect(service, oa)
        first = token_row(engine)
        assert await service.keeper.access_token() == first.access_token  # still fresh
        clock.set(T0 + timedelta(seconds=oa.expires_in) - timedelta(minutes=10))
        new = await service.keeper.access_token()
        second = token_row(engine)
        assert new == second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token
        assert first.refresh_token not in oa.refresh  # single use: spent
        await service.client.send(USER, {"text": "Xin chào"})
        await service.aclose()
    # neither token of either pair, nor the app secret, is ever in a log line
    secrets = {first.access_token, first.refresh_token, second.access_token}
    secrets |= {second.refresh_token, oa.app_secret, oa.oa_secret}
    lines = [r.getMessage() for r in caplog.records]
    assert lines and not [line for line in lines if any(s in line for s in secrets)]
    # and the production formatter would remove the configured OA secrets from anything
    settings = Settings(
        _env_file=None, ZALO_OA_APP_SECRET=oa.app_secret, ZALO_OA_SECRET_KEY=oa.oa_secret
    )
    assert {oa.app_secret, oa.oa_secret} <= set(secrets_of(settings))


async def test_error_216_refreshes_once_and_retries_the_call(engine):
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        oa.revoke_access()  # Zalo stopped accepting the access token early
        await service.client.send(USER, {"text": "Xin chào"})
        codes = [c.reply.get("error") for c in oa.calls if c.path == "/v3.0/oa/message/cs"]
        assert codes == [-216, 0]
        assert len([c for c in oa.calls if c.path == "/v4/oa/access_token"]) == 2  # code + refresh
        await service.aclose()


async def test_kill_between_refresh_and_save_is_detected_and_admins_get_the_consent_link(
    any_engine,
):
    engine = any_engine
    with Session(engine) as session:
        session.add(Contact(channel="telegram", user_id="42", chat_id="42", role="admin"))
        session.commit()
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        before = token_row(engine)

        def killed() -> None:
            raise SystemExit("kill -9 between Zalo's answer and the commit")

        service.keeper.after_answer = killed
        with pytest.raises(SystemExit):
            await service.keeper.refresh(before.access_token)
        assert token_row(engine).refresh_token == before.refresh_token  # the new pair is lost
        assert before.refresh_token not in oa.refresh  # ... and Zalo spent the old one

        service.keeper.after_answer = lambda: None  # the restarted process
        oa.revoke_access()
        with pytest.raises(TokenLost):
            await service.client.send(USER, {"text": "Xin chào"})
        assert token_row(engine).state == "lost"
        with Session(engine) as session:
            alerts = session.exec(select(Outbox).where(Outbox.kind == "zalo_alert")).all()
            pending = session.exec(select(ZaloOAuthPending)).all()
        assert [(a.channel, a.chat_id) for a in alerts] == [("telegram", "42")]
        assert f"{oa.base_url}/v4/oa/permission?" in alerts[0].payload
        assert len(pending) == 1 and pending[0].state in alerts[0].payload
        with pytest.raises(TokenLost):  # nothing is sent with a lost token, no new refresh
            await service.keeper.access_token()
        await service.aclose()


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(any_engine):
    engine = any_engine
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        old = token_row(engine).access_token
        other = service_for(oa, engine)  # a second worker, its own keeper
        results: list[str] = []
        errors: list[BaseException] = []

        def run(keeper) -> None:
            try:
                results.append(keeper._refresh(old))
            except BaseException as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(k,)) for k in (service.keeper, other.keeper)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert len(set(results)) == 1 and results[0] != old
        refreshes = [c for c in oa.calls if c.params.get("grant_type") == "refresh_token"]
        assert len(refreshes) == 1 and refreshes[0].reply.get("access_token")
        assert token_row(engine).state == "ok"
        await service.aclose()
        await other.aclose()
