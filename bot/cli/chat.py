"""CLI of the chat: invites, the first admin, and `parbot run`."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import typer
from sqlalchemy import select
from sqlmodel import Session

from bot.cli.support import fail, ready_engine
from bot.settings import Settings
from core.clock import SystemClock
from core.model import UserRole
from core.names import role_from_words
from messages.render import render
from storage.agency_names import resolve_agency
from storage.chat.invites import create_invite
from storage.chat.state import agency_by_code
from storage.db import transaction
from storage.tables.shared import Contact

invite_app = typer.Typer(no_args_is_help=True, help="Mã mời tham gia parbot.")
admin_app = typer.Typer(no_args_is_help=True, help="Quản trị.")

_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhd])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_EXPIRY = timedelta(days=90)
CHANNELS = ("telegram", "zalo", "zalo_oa")


def parse_duration(text: str) -> timedelta | None:
    """Durations as typed ("7d", "12h", "30m") → a timedelta (≤ 90 days), else None."""
    match = _DURATION.match(text)
    if match is None:
        return None
    value = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    return value if timedelta(0) < value <= MAX_EXPIRY else None


def bot_username(settings: Settings) -> str | None:
    """From TELEGRAM_BOT_USERNAME, else asked of the Bot API (getMe); None without a token."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    root = settings.telegram_api_url.rstrip("/")
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
    )

    async def ask() -> str | None:
        async with bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except TelegramError:
        return None


def make_invite(
    agency_code: str | None,
    role: str,
    expires: str,
    as_json: bool,
    created_by: str,
    channel: str = "telegram",
) -> None:
    settings = Settings()
    if channel not in CHANNELS:
        fail(render("zalo/cli_bad_channel.j2", channel=channel, channels=CHANNELS))
    wanted = role_from_words(role)
    if wanted is None:
        fail(render("chat/cli_bad_role.j2", role=role, roles=[r.value for r in UserRole]))
        return
    lifetime = parse_duration(expires)
    if lifetime is None:
        fail(render("chat/cli_bad_expires.j2", value=expires))
        return
    if agency_code is None and wanted is not UserRole.ADMIN:
        fail(render("chat/cli_agency_required.j2", role=wanted.value))
    engine = ready_engine(settings)
    now = SystemClock().now()
    with transaction(engine) as session:
        match = resolve_agency(session, agency_code) if agency_code else None
        agency = agency_by_code(session, match.code) if match and match.code else None
        if agency_code and agency is None:
            fail(
                render(
                    "chat/cli_bad_agency.j2",
                    code=agency_code,
                    candidates=match.candidates[:5] if match else [],
                )
            )
        code = create_invite(
            session, agency.id if agency else None, wanted, now + lifetime, created_by, now
        )
        agency_name = agency.name if agency else None
    if channel != "telegram":  # zalo: no deep links; the user sends the code to the bot
        from bot.cli.zalo import print_invite

        print_invite(code, channel, wanted.value, agency_name, now + lifetime, as_json)
        return
    username = bot_username(settings)
    link = f"https://t.me/{username}?start={code}" if username else None
    if as_json:
        typer.echo(json.dumps({"code": code, "link": link}, ensure_ascii=False))
        return
    typer.echo(
        render(
            "chat/cli_invite.j2",
            code=code,
            link=link,
            role=wanted.value,
            agency=agency_name,
            expires=now + lifetime,
        )
    )


@invite_app.command("create")
def invite_create(
    agency: str = typer.Option(..., "--agency", help="Mã cơ quan, ví dụ STP."),
    role: str = typer.Option("focal", "--role", help="focal | coordinator | leader | admin"),
    expires: str = typer.Option("7d", "--expires", help="Hiệu lực: 30m, 12h, 7d (tối đa 90d)."),
    as_json: bool = typer.Option(False, "--json", help='In {"code": …, "link": …}.'),
    channel: str = typer.Option("telegram", "--channel", help="telegram | zalo | zalo_oa"),
) -> None:
    """Tạo mã mời dùng một lần (in mã và đường liên kết t.me)."""
    make_invite(agency, role, expires, as_json, "cli", channel)


@admin_app.command("bootstrap")
def admin_bootstrap(
    agency: str | None = typer.Option(None, "--agency", help="Cơ quan của quản trị viên."),
    expires: str = typer.Option("1d", "--expires", help="Hiệu lực của mã: 30m, 12h, 1d…"),
    as_json: bool = typer.Option(False, "--json", help='In {"code": …, "link": …}.'),
    force: bool = typer.Option(False, "--force", help="Tạo thêm dù đã có quản trị viên."),
) -> None:
    """Tạo mã mời cho quản trị viên đầu tiên (chạy trên máy chủ)."""
    engine = ready_engine()
    with Session(engine) as session:
        admins = session.execute(
            select(Contact.id).where(Contact.role == UserRole.ADMIN.value, Contact.active)
        ).first()
    if admins is not None and not force:
        fail(render("chat/cli_admin_exists.j2"))
    make_invite(agency, UserRole.ADMIN.value, expires, as_json, "cli:bootstrap")


def run() -> None:
    """Chạy bot: Telegram nếu có TELEGRAM_BOT_TOKEN, nếu không thì kênh console để chạy thử."""
    from bot.runtime import main

    raise typer.Exit(main(Settings()))


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
    app.add_typer(admin_app, name="admin")
    app.command("run")(run)
