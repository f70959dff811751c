"""OAuth v4 with PKCE for the Official Account, and the token keeper (zalo.md §2 [K][F][M]).

The access token lives ~25 h and is refreshed ahead of expiry, or at once on error -216. The
refresh token is **single-use and rotates**: the new pair is committed the moment Zalo answers,
under a database lock (storage/zalo/tokens.py) so several workers never spend the same refresh
token. If the process dies between Zalo's answer and that commit, the pair is gone: the next
refresh gets -118 / -14014, the row is marked lost and the admins get the consent link.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.channel import PermanentError, TransientError
from core.clock import Clock
from storage.zalo import tokens

log = logging.getLogger("parbot.zalo_oa")
REFRESH_AHEAD = timedelta(minutes=30)
DEAD_REFRESH = {-118, -14014}


class TokenLost(PermanentError):
    """No usable token: a human must open the consent link again."""


@dataclass(frozen=True)
class OAuthApp:
    app_id: str
    app_secret: str
    oauth_url: str = "https://oauth.zaloapp.com"
    redirect_uri: str = ""
    proxy: str | None = None  # HTTPS_PROXY (bot/channels/outbound_proxy.py), or direct


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def consent_url(engine: Engine, app: OAuthApp, now: datetime) -> str:
    """A fresh consent URL; its PKCE verifier waits in the database for the callback."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    with Session(engine) as session:
        tokens.add_pending(session, state, verifier, now)
        session.commit()
    query = urllib.parse.urlencode(
        {
            "app_id": app.app_id,
            "redirect_uri": app.redirect_uri,
            "code_challenge": challenge_of(verifier),
            "state": state,
        }
    )
    return f"{app.oauth_url.rstrip('/')}/v4/oa/permission?{query}"


def _post_token(app: OAuthApp, form: dict[str, str]) -> dict[str, Any]:
    try:
        reply = httpx.post(
            f"{app.oauth_url.rstrip('/')}/v4/oa/access_token",
            data={"app_id": app.app_id, **form},
            headers={"secret_key": app.app_secret},
            timeout=15,
            proxy=app.proxy,
            trust_env=False,
        )
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TransientError(f"oauth: {type(exc).__name__}") from exc
    if not isinstance(body, dict):
        raise TransientError("oauth: not JSON")
    return body


def _expiry(body: dict[str, Any], now: datetime) -> datetime:
    return now + timedelta(seconds=int(str(body.get("expires_in") or 90000)))  # may be a string


def exchange_code(
    engine: Engine, app: OAuthApp, code: str, state: str, now: datetime, oa_id: str = ""
) -> bool:
    """The callback: code + the stored verifier → the first token pair. False when refused."""
    with Session(engine) as session:
        verifier = tokens.take_pending(session, state, now)
        session.commit()
    if verifier is None:
        log.warning("zalo oauth callback refused: unknown or expired state")
        return False
    body = _post_token(
        app, {"code": code, "grant_type": "authorization_code", "code_verifier": verifier}
    )
    if not body.get("access_token"):
        log.warning("zalo oauth code exchange refused error=%s", body.get("error"))
        return False
    with Session(engine) as session:
        tokens.save_pair(
            session, body["access_token"], body["refresh_token"], _expiry(body, now), now, oa_id
        )
        session.commit()
    return True


class TokenKeeper:
    """The OA access token for API calls, refreshed ahead of expiry and on demand."""

    def __init__(
        self,
        engine: Engine,
        app: OAuthApp,
        clock: Clock,
        on_lost: Callable[[], None] | None = None,
        after_answer: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.app, self.clock = engine, app, clock
        self.on_lost = on_lost or (lambda: None)
        self.after_answer = after_answer or (lambda: None)  # tests: a kill lands here

    async def access_token(self) -> str:
        with Session(self.engine) as session:
            row = tokens.current(session)
        if row is None or row.state != "ok":
            raise TokenLost("zalo oa not connected")
        if row.access_expires_at - REFRESH_AHEAD > self.clock.now():
            return row.access_token
        return await self.refresh(row.access_token)

    async def refresh(self, failed: str | None = None) -> str:
        """A new access token, unless another process already replaced `failed`."""
        return await asyncio.to_thread(self._refresh, failed)

    def _refresh(self, failed: str | None) -> str:
        now = self.clock.now()
        with Session(self.engine) as session:
            row = tokens.lock(session)
            if row is None or row.state != "ok":
                raise TokenLost("zalo oa not connected")
            fresh = row.access_expires_at - REFRESH_AHEAD > now
            if row.access_token and row.access_token != failed and fresh:
                return row.access_token  # another worker refreshed while we waited
            body = _post_token(
                self.app, {"refresh_token": row.refresh_token, "grant_type": "refresh_token"}
            )
            if body.get("access_token"):
                self.after_answer()
                tokens.save_pair(
                    session, body["access_token"], body["refresh_token"], _expiry(body, now), now
                )
                session.commit()  # at once: the old refresh token is spent
                log.info("zalo oa token refreshed")
                return str(body["access_token"])
            code = int(body.get("error") or 0)
            if code in DEAD_REFRESH:
                tokens.mark_lost(session, now)
                session.commit()
                log.error("zalo oa refresh token dead error=%s: re-consent needed", code)
                self.on_lost()
                raise TokenLost(f"refresh token refused ({code})")
            raise TransientError(f"oauth refresh: error {code}")
