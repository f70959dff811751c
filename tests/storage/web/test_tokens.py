"""Link, session and API tokens on SQLite and PostgreSQL: hashes only, expiry, one use, unlink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from core.model import UserRole
from storage.chat.state import ChatKey, link_contact
from storage.db import transaction
from storage.tables.web import WebLink
from storage.web.tokens import (
    SIGNIN,
    THROTTLE_FAILURES,
    SessionPolicy,
    api_token_for,
    check_link,
    consume_link,
    create_api_token,
    issue_link,
    live_session,
    open_session,
    record_bad_link,
    throttled,
    unlink_contact,
)

NOW = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)


def a_contact(engine) -> int:
    with transaction(engine) as session:
        row = link_contact(session, ChatKey("telegram", "9", "9"), "", None, UserRole.ADMIN)
        assert row.id is not None
        return row.id


def test_a_sign_in_token_is_stored_hashed_used_once_and_dies_with_its_contact(any_engine):
    contact_id = a_contact(any_engine)
    with transaction(any_engine) as session:
        token = issue_link(session, SIGNIN, contact_id, timedelta(minutes=10), NOW)
        spare = issue_link(session, SIGNIN, contact_id, timedelta(minutes=10), NOW)
    with Session(any_engine) as session:
        assert token not in {row.token_hash for row in session.exec(select(WebLink))}
    with transaction(any_engine) as session:
        check = check_link(session, token, SIGNIN, NOW + timedelta(minutes=9))
        assert check.ok and check.link is not None
        assert consume_link(session, check.link, NOW)
        assert not consume_link(session, check.link, NOW)  # a second press loses the race
    with transaction(any_engine) as session:
        assert check_link(session, token, SIGNIN, NOW).reason == "used"
        assert check_link(session, spare, SIGNIN, NOW + timedelta(minutes=10)).reason == "expired"
        assert check_link(session, spare[:-1] + "x", SIGNIN, NOW).reason == "unknown"
        cookie, _ = open_session(session, contact_id, NOW, SessionPolicy())
        api, _ = create_api_token(session, "so-tttt", NOW, contact_id)
    with transaction(any_engine) as session:
        assert live_session(session, cookie, NOW + timedelta(hours=1), SessionPolicy())
        assert api_token_for(session, api, NOW) is not None
        assert unlink_contact(session, contact_id, NOW) == {
            "sessions": 1, "links": 2, "api_tokens": 1
        }
    with transaction(any_engine) as session:
        later = NOW + timedelta(minutes=1)
        assert live_session(session, cookie, later, SessionPolicy()) is None
        assert api_token_for(session, api, later) is None
        assert check_link(session, spare, SIGNIN, NOW).reason == "revoked"


def test_bad_links_block_an_address_for_a_while(any_engine):
    with transaction(any_engine) as session:
        blocked = [record_bad_link(session, "203.0.113.9", NOW) for _ in range(THROTTLE_FAILURES)]
        assert blocked[-1] and not any(blocked[:-1])
    with transaction(any_engine) as session:
        assert throttled(session, "203.0.113.9", NOW + timedelta(minutes=14))
        assert not throttled(session, "203.0.113.9", NOW + timedelta(minutes=16))
        assert not throttled(session, "198.51.100.1", NOW)
