"""CLI of the web companion: `parbot serve`, `parbot web link|sessions|end|unlink`,
`parbot api token create|list|revoke`.

Tokens are printed once, when made, and never again (only their hashes are stored).
"""

from __future__ import annotations

import json

import typer
from sqlmodel import select

from bot.app import engine_from_settings
from bot.cli.support import fail
from bot.settings import Settings
from core.clock import SystemClock
from core.model import UserRole
from messages.render import render
from storage.chat.state import agency_by_code, audit
from storage.db import transaction
from storage.tables.shared import Contact
from storage.web.tokens import (
    create_api_token,
    end_session,
    list_api_tokens,
    open_sessions,
    revoke_api_token,
    unlink_contact,
)

web_app = typer.Typer(no_args_is_help=True, help="Trang web của parbot: liên kết đăng nhập, phiên.")
api_app = typer.Typer(no_args_is_help=True, help="API JSON chỉ đọc.")
token_app = typer.Typer(no_args_is_help=True, help="Mã truy cập API.")
OPERATOR = "web"  # the channel of contacts that exist only for the operator's sign-in links


def _engine_and_url() -> tuple[Settings, object, str]:
    settings = Settings()
    url = settings.web_public_url()
    if url is None:
        fail(render("web/cli_off.j2"))
    return settings, engine_from_settings(settings), str(url)


@web_app.command("link")
def web_link(
    agency: str | None = typer.Option(None, "--agency", help="Mã cơ quan, ví dụ STP."),
    role: str = typer.Option("coordinator", "--role", help="focal | coordinator | leader | admin"),
    as_json: bool = typer.Option(False, "--json", help='In {"url": …}.'),
) -> None:
    """Liên kết đăng nhập trang web dùng một lần (10 phút) cho người vận hành."""
    from bot.web.links import signin_url

    try:
        wanted = UserRole(role.strip().lower())
    except ValueError:
        fail(render("chat/cli_bad_role.j2", role=role, roles=[r.value for r in UserRole]))
    if agency is None and wanted is UserRole.FOCAL:
        fail(render("chat/cli_agency_required.j2", role=wanted.value))
    _, engine, base = _engine_and_url()
    now = SystemClock().now()
    with transaction(engine) as session:  # type: ignore[arg-type]
        found = agency_by_code(session, agency) if agency else None
        if agency and found is None:
            fail(render("chat/cli_bad_agency.j2", code=agency))
        user_id = f"operator-{wanted.value}-{found.code if found else 'all'}"
        contact = session.exec(
            select(Contact).where(Contact.channel == OPERATOR, Contact.user_id == user_id)
        ).first()
        if contact is None:
            contact = Contact(
                channel=OPERATOR, user_id=user_id, chat_id=user_id, role=wanted.value
            )
            session.add(contact)
        contact.role, contact.active = wanted.value, True
        contact.agency_id = found.id if found else None
        contact.display_name = render("web/cli_operator_name.j2")
        session.flush()
        assert contact.id is not None
        url = signin_url(session, base, contact.id, now)
        audit(session, "cli", "web.link_issued", f"contact:{contact.id}", "ok", contact.id, now)
    if as_json:
        typer.echo(json.dumps({"url": url}, ensure_ascii=False))
    else:
        typer.echo(render("web/cli_link.j2", url=url))


@web_app.command("sessions")
def web_sessions(as_json: bool = typer.Option(False, "--json")) -> None:
    """Các phiên đăng nhập đang mở."""
    _, engine, _ = _engine_and_url()
    with transaction(engine) as session:  # type: ignore[arg-type]
        rows = [
            {
                "id": s.id,
                "contact_id": c.id,
                "who": f"{c.channel}:{c.user_id}",
                "name": c.display_name,
                "role": c.role,
                "created_at": s.created_at.isoformat(),
                "last_seen_at": s.last_seen_at.isoformat(),
            }
            for s, c in open_sessions(session, SystemClock().now())
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        typer.echo(render("web/cli_sessions.j2", rows=rows))


@web_app.command("end")
def web_end(
    session_id: int = typer.Argument(..., help="Số phiên (xem `parbot web sessions`)."),
) -> None:
    """Kết thúc một phiên đăng nhập."""
    _, engine, _ = _engine_and_url()
    now = SystemClock().now()
    with transaction(engine) as session:  # type: ignore[arg-type]
        if not end_session(session, session_id, now):
            fail(render("web/cli_no_session.j2", id=session_id))
        audit(session, "cli", "web.session_end", f"session:{session_id}", "ok", None, now)
    typer.echo(render("web/cli_session_ended.j2", id=session_id))


@web_app.command("unlink")
def web_unlink(contact_id: int = typer.Argument(..., help="Số liên hệ (contact id).")) -> None:
    """Huỷ liên kết một người dùng: phiên, liên kết và mã API của họ hết hiệu lực."""
    settings = Settings()
    engine = engine_from_settings(settings)
    now = SystemClock().now()
    with transaction(engine) as session:
        ended = unlink_contact(session, contact_id, now)
        if ended is None:
            fail(render("web/cli_no_contact.j2", id=contact_id))
        audit(session, "cli", "contact.unlink", f"contact:{contact_id}", "ok", contact_id, now,
              **ended)
    typer.echo(render("web/cli_unlinked.j2", id=contact_id, **ended))


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="Dùng cho ai / hệ thống nào."),
    contact: int | None = typer.Option(None, "--contact", help="Quản trị viên (contact id)."),
    as_json: bool = typer.Option(False, "--json", help='In {"id": …, "token": …}.'),
) -> None:
    """Tạo mã truy cập API (chỉ in ra một lần)."""
    engine = engine_from_settings(Settings())
    now = SystemClock().now()
    with transaction(engine) as session:
        if contact is not None:
            row = session.get(Contact, contact)
            if row is None or row.role != UserRole.ADMIN.value or not row.active:
                fail(render("web/cli_not_admin.j2", id=contact))
        token, made = create_api_token(session, name, now, contact, "cli")
        audit(session, "cli", "api.token_create", f"api_token:{made.id}", "ok", contact, now)
        token_id = made.id
    if as_json:
        typer.echo(json.dumps({"id": token_id, "token": token}, ensure_ascii=False))
    else:
        typer.echo(render("web/cli_token.j2", id=token_id, token=token))


@token_app.command("list")
def token_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Các mã truy cập API (không in mã, chỉ phần đầu)."""
    engine = engine_from_settings(Settings())
    with transaction(engine) as session:
        rows = [
            {
                "id": t.id,
                "prefix": t.prefix,
                "name": t.name,
                "contact_id": t.contact_id,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t in list_api_tokens(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        typer.echo(render("web/cli_tokens.j2", rows=rows))


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="Số mã (xem `parbot api token list`)."),
) -> None:
    """Thu hồi một mã truy cập API."""
    engine = engine_from_settings(Settings())
    now = SystemClock().now()
    with transaction(engine) as session:
        if not revoke_api_token(session, token_id, now):
            fail(render("web/cli_no_token.j2", id=token_id))
        audit(session, "cli", "api.token_revoke", f"api_token:{token_id}", "ok", None, now)
    typer.echo(render("web/cli_token_revoked.j2", id=token_id))


def serve(
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Số tiến trình dùng chung một cơ sở dữ liệu PostgreSQL: mỗi tiến trình phục vụ "
        "trang web, nhận tin nhắn và gửi tin; một tiến trình chạy lịch nhắc.",
    ),
) -> None:
    """Chạy riêng trang web (và webhook Telegram khi TELEGRAM_MODE=webhook)."""
    if workers is not None:
        from bot.web.workers import main as workers_main

        raise typer.Exit(workers_main(Settings(), workers))
    from bot.web.serve import main

    raise typer.Exit(main(Settings()))


def register(app: typer.Typer) -> None:
    app.add_typer(web_app, name="web")
    api_app.add_typer(token_app, name="token")
    app.add_typer(api_app, name="api")
    app.command("serve")(serve)
