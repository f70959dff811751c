"""CLI of the Zalo channels: connect the Official Account, a contact's phone for ZNS, invites.

parbot zalo oa connect                  # prints the OAuth v4 consent URL (PKCE)
parbot zalo phone --user ID --phone 84… # the number ZNS reminders go to outside the window
"""

from __future__ import annotations

import json
from datetime import datetime

import typer

from bot.cli.support import fail, get_engine
from bot.settings import Settings
from core.clock import SystemClock
from messages.render import render

zalo_app = typer.Typer(no_args_is_help=True, help="Kênh Zalo (Bot và Official Account).")
oa_app = typer.Typer(no_args_is_help=True, help="Zalo Official Account.")


def print_invite(
    code: str, channel: str, role: str, agency: str | None, expires: datetime, as_json: bool
) -> None:
    """`parbot invite create … --channel zalo`: no link; the user sends the code to the bot."""
    if as_json:
        typer.echo(json.dumps({"code": code}, ensure_ascii=False))
        return
    typer.echo(
        render(
            "zalo/cli_invite.j2",
            code=code,
            channel=channel,
            role=role,
            agency=agency,
            expires=expires,
        )
    )


@oa_app.command("connect")
def oa_connect() -> None:
    """In đường liên kết cấp quyền (OAuth v4, PKCE) để kết nối Zalo OA với parbot."""
    from bot.channels.zalo_oa.oauth import consent_url
    from bot.channels.zalo_oa.service import oauth_app

    settings = Settings()
    if not settings.zalo_oa_app_id or settings.zalo_oa_app_secret is None:
        fail(render("zalo/cli_oa_not_configured.j2"))
    app = oauth_app(settings)
    url = consent_url(get_engine(), app, SystemClock().now())
    typer.echo(render("zalo/cli_connect.j2", url=url, redirect=app.redirect_uri))


@zalo_app.command("phone")
def set_phone(
    user: str = typer.Option(..., "--user", help="Mã người dùng Zalo OA (user_id)."),
    phone: str = typer.Option(..., "--phone", help="Số điện thoại dạng 84…; để trống để xoá."),
) -> None:
    """Số điện thoại nhận tin ZNS của một người dùng Zalo OA (ngoài thời hạn nhắn tin)."""
    from storage.zalo.window import set_phone as store_phone

    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone and not 9 <= len(digits) <= 15:
        fail(render("zalo/cli_bad_phone.j2", phone=phone))
    store_phone(get_engine(), "zalo_oa", user, digits or None)
    typer.echo(render("zalo/cli_phone_saved.j2", user=user, phone=digits))


def print_quota() -> None:
    """`parbot outbox status` adds this month's Zalo Bot count when the channel is set up."""
    from sqlmodel import Session

    from storage.zalo.quota import WARN_AT, usage

    settings = Settings()
    if settings.zalo_bot_token is None:
        return
    with Session(get_engine()) as session:
        used = usage(session, "zalo", SystemClock().now(), settings.zalo_bot_quota)
    typer.echo(render("zalo/cli_quota.j2", usage=used, warn=used.share >= WARN_AT))


def register(app: typer.Typer) -> None:
    zalo_app.add_typer(oa_app, name="oa")
    app.add_typer(zalo_app, name="zalo")
