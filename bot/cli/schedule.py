"""CLI of scheduling: the working-day calendar, reporting rounds, the outbox.

    parbot calendar list [--year 2025]
    parbot calendar add-off 25/01/2025 [--to 02/02/2025] [--note "Tết Ất Tỵ"]
    parbot calendar add-workday 04/05/2024 [--note "làm bù"]
    parbot calendar remove 04/05/2024
    parbot round list | show CODE | create … | set-deadline CODE DATE | close CODE | reopen CODE
    parbot round task-date REF DATE          (a task whose schedule is external)
    parbot outbox status | retry ID… | deliver [--until-empty]

Errors: a Vietnamese message on stderr, exit code 2, database unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, timedelta

import typer
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import configure_logging
from bot.cli.support import fail, ready_engine
from bot.settings import Settings
from core.clock import SystemClock
from core.conversation import parse_date
from core.rounds import Audience
from messages.render import render
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.scheduling.calendar import OFF, WORK, list_days, remove_day, set_day
from storage.scheduling.rounds import (
    CLOSED,
    OPEN,
    RoundError,
    audience_agency_ids,
    create_round,
    get_round,
    list_rounds,
    set_deadline,
    set_status,
    set_task_date,
)
from storage.tables.shared import Outbox

calendar_app = typer.Typer(no_args_is_help=True, help="Lịch ngày làm việc (nghỉ lễ, làm bù).")
round_app = typer.Typer(no_args_is_help=True, help="Kỳ báo cáo.")
outbox_app = typer.Typer(no_args_is_help=True, help="Hàng đợi tin nhắn gửi đi.")

MAX_RANGE = 60  # days one add-off may cover


def parse_day(text: str) -> date:
    """05/07/2024 or 2024-07-05; a clear error (exit 2) for anything else."""
    day = parse_date(text)
    if day is None:
        fail(f"ngày không hợp lệ: {text!r} (dùng dạng 05/07/2024)")
    return day


# ---------------------------------------------------------------------------- calendar
@calendar_app.command("list")
def calendar_list(
    year: int = typer.Option(None, help="Năm (mặc định: năm nay)."),
) -> None:
    """Ngày nghỉ và ngày làm bù của một năm (thư viện ngày lễ + quyết định của quản trị)."""
    year = year or date.today().year
    if not 1990 <= year <= 2100:
        fail(f"năm không hợp lệ: {year}")
    with Session(ready_engine()) as session:
        days = list_days(session, year)
    typer.echo(render("rounds/cli_calendar.j2", year=year, days=days))


def _set_days(first: date, last: date, kind: str, note: str) -> list[date]:
    if last < first:
        fail("ngày kết thúc trước ngày bắt đầu")
    if (last - first).days >= MAX_RANGE:
        fail(f"khoảng ngày quá dài (tối đa {MAX_RANGE} ngày)")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with transaction(ready_engine()) as session:
        for day in days:
            set_day(session, day, kind, note, "cli")
    return days


@calendar_app.command("add-off")
def calendar_add_off(
    day: str = typer.Argument(..., help="Ngày nghỉ, ví dụ 25/01/2025."),
    to: str = typer.Option(None, "--to", help="Nghỉ đến hết ngày này (một khoảng ngày)."),
    note: str = typer.Option("", help="Ghi chú (ví dụ: số quyết định)."),
) -> None:
    """Thêm ngày nghỉ (ví dụ Tết theo quyết định của Chính phủ)."""
    first = parse_day(day)
    days = _set_days(first, parse_day(to) if to else first, OFF, note)
    typer.echo(render("rounds/cli_days_set.j2", kind=OFF, days=days))


@calendar_app.command("add-workday")
def calendar_add_workday(
    day: str = typer.Argument(..., help="Ngày làm bù, ví dụ 04/05/2024."),
    note: str = typer.Option("", help="Ghi chú."),
) -> None:
    """Thêm ngày làm việc bù (một thứ Bảy hoặc Chủ nhật phải đi làm)."""
    first = parse_day(day)
    days = _set_days(first, first, WORK, note)
    typer.echo(render("rounds/cli_days_set.j2", kind=WORK, days=days))


@calendar_app.command("remove")
def calendar_remove(day: str = typer.Argument(..., help="Ngày cần bỏ quyết định.")) -> None:
    """Bỏ quyết định của quản trị về một ngày (trở lại theo thư viện ngày lễ)."""
    target = parse_day(day)
    with transaction(ready_engine()) as session:
        removed = remove_day(session, target)
    if not removed:
        fail(f"không có quyết định nào cho ngày {target:%d/%m/%Y}")
    typer.echo(render("rounds/cli_days_set.j2", kind="removed", days=[target]))


# ---------------------------------------------------------------------------- rounds
@round_app.command("list")
def round_list(
    all_: bool = typer.Option(False, "--all", help="Cả kỳ đã đóng."),
) -> None:
    """Các kỳ báo cáo."""
    with Session(ready_engine()) as session:
        rows = list_rounds(session, None if all_ else OPEN)
        counts = {r.id: len(audience_agency_ids(session, r)) for r in rows}
    typer.echo(render("rounds/cli_list.j2", rounds=rows, counts=counts))


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in re.split(r"[,;\s]+", text or "") if c.strip())


@round_app.command("create")
def round_create(
    title: str = typer.Option(..., help="Tên kỳ báo cáo."),
    deadline: str = typer.Option(..., help="Hạn gửi, ví dụ 30/09/2024."),
    agencies: str = typer.Option(None, help="Mã cơ quan, cách nhau bởi dấu phẩy."),
    kinds: str = typer.Option(None, help="Loại cơ quan: department, district, commune, …"),
    tasks: str = typer.Option(None, help="Số hiệu nhiệm vụ (III.2.1,…) hoặc * cho tất cả."),
    roles: str = typer.Option("lead", help="Với --tasks: lead, coordinate hoặc cả hai."),
    ask: str = typer.Option("", help="Yêu cầu nội dung báo cáo."),
    opens: str = typer.Option(None, help="Ngày mở kỳ (báo cáo từ ngày này mới tính)."),
    recurrence: str = typer.Option(None, help="monthly | quarterly | yearly"),
    code: str = typer.Option(None, help="Mã kỳ (mặc định: tạo từ tên)."),
    asks: str = typer.Option(
        "status", help="status: báo cáo tiến độ nhiệm vụ; document: mỗi cơ quan gửi một văn bản."
    ),
) -> None:
    """Tạo kỳ báo cáo mới."""
    try:
        task_list = None
        if tasks:
            task_list = (
                ("*",)
                if tasks.strip() == "*"
                else tuple(t.strip() for t in re.split(r"[,;\s]+", tasks) if t.strip())
            )
        audience = Audience(
            agencies=_codes(agencies),
            kinds=tuple(k.lower() for k in _codes(kinds)),
            tasks=task_list,
            roles=tuple(r.lower() for r in _codes(roles)) or ("lead",),
        )
        with transaction(ready_engine()) as session:
            row = create_round(
                session,
                title=title,
                deadline=parse_day(deadline),
                audience=audience,
                ask=ask,
                opens_on=parse_day(opens) if opens else None,
                recurrence=recurrence,
                code=code,
                asks=asks,
            )
            count = len(audience_agency_ids(session, row))
    except (RoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(render("rounds/cli_created.j2", round=row, count=count))


@round_app.command("show")
def round_show(code: str = typer.Argument(..., help="Mã kỳ báo cáo.")) -> None:
    """Chi tiết một kỳ báo cáo."""
    with Session(ready_engine()) as session:
        row = get_round(session, code)
        if row is None:
            fail(f"không có kỳ báo cáo {code}")
        count = len(audience_agency_ids(session, row))
    typer.echo(
        render("rounds/cli_show.j2", round=row, count=count, audience=json.loads(row.audience))
    )


@round_app.command("set-deadline")
def round_set_deadline(
    code: str = typer.Argument(..., help="Mã kỳ báo cáo."),
    deadline: str = typer.Argument(..., help="Hạn mới, ví dụ 12/07/2024."),
) -> None:
    """Đổi hạn của một kỳ báo cáo (lịch nhắc tính lại theo hạn mới)."""
    day = parse_day(deadline)
    try:
        with transaction(ready_engine()) as session:
            row = set_deadline(session, code, day)
    except RoundError as exc:
        fail(str(exc))
    typer.echo(render("rounds/deadline_set.j2", round=row))


def _status(code: str, status: str) -> None:
    try:
        with transaction(ready_engine()) as session:
            row = set_status(session, code, status)
    except RoundError as exc:
        fail(str(exc))
    typer.echo(render("rounds/cli_status.j2", round=row))


@round_app.command("close")
def round_close(code: str = typer.Argument(..., help="Mã kỳ báo cáo.")) -> None:
    """Đóng kỳ báo cáo: dừng nhắc."""
    _status(code, CLOSED)


@round_app.command("reopen")
def round_reopen(code: str = typer.Argument(..., help="Mã kỳ báo cáo.")) -> None:
    """Mở lại kỳ báo cáo đã đóng."""
    _status(code, OPEN)


@round_app.command("task-date")
def round_task_date(
    ref: str = typer.Argument(..., help="Số hiệu nhiệm vụ, ví dụ I.2."),
    due: str = typer.Argument(..., help="Hạn, ví dụ 15/11/2024."),
) -> None:
    """Đặt hạn cho nhiệm vụ có tiến độ "theo kế hoạch của cấp trên" (cần điều phối viên)."""
    day = parse_day(due)
    try:
        with transaction(ready_engine()) as session:
            task = set_task_date(session, ref.strip(), day)
    except RoundError as exc:
        fail(str(exc))
    typer.echo(render("rounds/cli_task_date.j2", task=task))


# ---------------------------------------------------------------------------- outbox
@outbox_app.command("status")
def outbox_status(
    failed: int = typer.Option(10, help="Số dòng lỗi gần nhất được liệt kê."),
) -> None:
    """Tình trạng hàng đợi: số tin theo trạng thái, lý do lỗi, các tin chưa chắc đã gửi."""
    with Session(ready_engine()) as session:
        counts = outbox_repo.status_counts(session)
        kinds = dict(
            session.exec(
                select(Outbox.kind, func.count())
                .where(Outbox.status == outbox_repo.PENDING)
                .group_by(Outbox.kind)
            ).all()
        )
        reasons = outbox_repo.failure_reasons(session)
        recent = session.exec(
            select(Outbox)
            .where(Outbox.status == outbox_repo.FAILED)
            .order_by(col(Outbox.id).desc())
            .limit(failed)
        ).all()
    typer.echo(
        render("rounds/cli_outbox.j2", counts=counts, kinds=kinds, reasons=reasons, recent=recent)
    )
    from bot.cli.zalo import print_quota  # zalo: the Bot Platform's monthly quota

    print_quota()


@outbox_app.command("retry")
def outbox_retry(ids: list[int] = typer.Argument(..., help="Số thứ tự (id) các tin lỗi.")) -> None:
    """Gửi lại các tin đã lỗi (ví dụ tin "không chắc đã gửi" sau khi đã kiểm tra với người nhận)."""
    with transaction(ready_engine()) as session:
        count = outbox_repo.retry_failed(session, ids, SystemClock().now())
    if count == 0:
        fail("không có tin lỗi nào với các id này")
    typer.echo(render("rounds/cli_retry.j2", count=count))


@outbox_app.command("deliver")
def outbox_deliver(
    until_empty: bool = typer.Option(
        False, "--until-empty", help="Dừng khi hàng đợi hết tin chờ gửi (mặc định: chạy mãi)."
    ),
    ignore_window: bool = typer.Option(
        False, "--ignore-window", help="Gửi cả ngoài giờ hành chính (đẩy tin tồn đọng)."
    ),
) -> None:
    """Chạy bộ gửi tin (không cần `parbot run`): gửi các tin đến hạn trong hàng đợi."""
    settings = Settings()
    configure_logging(settings)
    engine = ready_engine(settings)
    if settings.telegram_bot_token is None:
        fail("cần TELEGRAM_BOT_TOKEN để gửi qua Telegram")
    from bot.channels.telegram.delivery import delivery_channel
    from bot.features.scheduling import scheduling_from

    token = settings.telegram_bot_token.get_secret_value()
    from bot.channels.outbound_proxy import proxy_for

    proxy = proxy_for(settings, settings.telegram_api_url)
    telegram, bot = delivery_channel(token, settings.telegram_api_url, engine, proxy=proxy)
    channels = {telegram.name: telegram}
    from scheduler.leader import try_lead

    ctx = scheduling_from(settings, engine, SystemClock())
    leadership = try_lead(engine)
    if leadership is None:
        fail("một tiến trình khác đang gửi tin cho cơ sở dữ liệu này")

    async def deliver() -> None:
        config = DeliveryConfig(window=ctx.window, per_second=settings.send_rate)
        if ignore_window:
            config.scheduled_kinds = frozenset()
        worker = DeliveryWorker(engine, channels, ctx.clock, ctx.calendar, config)
        async with bot:
            worker.recover()
            if not until_empty:
                await worker.run(asyncio.Event())
                return
            while True:
                if (await worker.run_once()).handled:
                    continue
                with Session(engine) as session:
                    counts = outbox_repo.status_counts(session)
                if not counts.get(outbox_repo.PENDING) and not counts.get(outbox_repo.SENDING):
                    return
                await asyncio.sleep(0.5)

    try:
        asyncio.run(deliver())
    finally:
        leadership.release()


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
    app.add_typer(round_app, name="round")
    app.add_typer(outbox_app, name="outbox")


if __name__ == "__main__":  # `python -m bot.cli.schedule outbox deliver …`: these commands alone
    standalone = typer.Typer(no_args_is_help=True)
    register(standalone)
    standalone()
