"""CLI: `parbot report` (the compiled report in any format) and `parbot demo seed|clear`.

Errors print a Vietnamese message on stderr and exit with code 2; a report never writes to
the database, and its file appears only when complete (written beside it, then renamed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from bot.app import engine_from_settings
from bot.cli.support import fail, get_engine
from bot.settings import Settings
from core.clock import SystemClock
from core.conversation import parse_date
from core.report_model import Progress as ProgressFn
from core.report_model import Scope
from messages.render import environment
from messages.reports.build import Format, compile_report, write_output
from messages.reports.json_export import report_json
from messages.reports.summary import markdown
from storage.db import transaction
from storage.demo import DemoError, remove_demo, seed_demo
from storage.plans import plan_by_code
from storage.reports.query import ScopeError, letterhead
from storage.tables.shared import StatusReport, Task

LARGE = 20_000  # reports: above this a progress bar is shown


@cache
def words() -> Any:
    return environment().get_template("report/cli.j2").module


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        fail(str(words().bad_date(value)))
    return parsed


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr for large data; a no-op for small plans."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(str(words().stage(stage)), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield step


def _report_count(session: Any, plan_code: str | None) -> int:
    plan = plan_by_code(session, plan_code)
    if plan is None:
        return 0
    return int(
        session.execute(
            select(func.count())
            .select_from(StatusReport)
            .join(Task, Task.id == StatusReport.task_id)
            .where(Task.plan_id == plan.id)
        ).scalar_one()
    )


def report(
    fmt: str = typer.Option("xlsx", "--format", "-f", help=str(words().help_format())),
    out: Path | None = typer.Option(None, "--out", "-o", help=str(words().help_out())),
    plan: str | None = typer.Option(None, "--plan", help=str(words().help_plan())),
    round_code: str | None = typer.Option(None, "--round", help=str(words().help_round())),
    as_of: str | None = typer.Option(None, "--as-of", help=str(words().help_as_of())),
    area: str | None = typer.Option(None, "--area", help=str(words().help_area())),
    kind: str | None = typer.Option(None, "--kind", help=str(words().help_kind())),
    agency: str | None = typer.Option(None, "--agency", help=str(words().help_agency())),
) -> None:
    """Xuất báo cáo tổng hợp (xlsx, docx, png, md, json, zip)."""
    try:
        chosen = Format(fmt.strip().lower())
    except ValueError:
        fail(str(words().bad_format(fmt)))
        return
    if out is None and chosen not in (Format.MD, Format.JSON):
        fail(str(words().need_out(chosen.value)))
    settings = Settings()
    tz = ZoneInfo(settings.timezone)
    scope = Scope(
        plan_code=plan,
        round_code=round_code,
        area_code=area,
        agency_kind=kind,
        agency_code=agency,
        as_of=parse_as_of(as_of),
    )
    engine = engine_from_settings(settings)
    now = SystemClock().now()
    with transaction(engine) as session:
        large = _report_count(session, plan) >= LARGE
        with progress_bar(large) as step:
            try:
                compiled = compile_report(session, scope, tz, now, step)
                head = (
                    letterhead(
                        session,
                        compiled.data.plan,
                        settings.report_issuer,
                        settings.report_place,
                        settings.report_signer,
                    )
                    if chosen is Format.DOCX
                    else None
                )
            except ScopeError as exc:
                fail(str(words().scope_error(exc.what, exc.value)))
                return
            if out is None:
                text = markdown(compiled) if chosen is Format.MD else report_json(compiled)
                sys.stdout.write(text + "\n")
                return
            target = out.expanduser()
            partial = target.with_name(f".{target.name}.part")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                write_output(chosen, compiled, partial, tz, head, session, step)
                os.replace(partial, target)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                fail(str(words().cannot_write(target, exc.strerror or exc)))
    typer.echo(
        str(
            words().written(
                chosen.value, target, len(compiled.data.tasks), len(compiled.data.reports)
            )
        ),
        err=True,
    )


demo_app = typer.Typer(no_args_is_help=True, help=str(words().help_demo()))


@demo_app.command("seed", help=str(words().help_demo_seed()))
def demo_seed(
    plan: str | None = typer.Option(None, "--plan", help=str(words().help_plan())),
    seed: int = typer.Option(2024, "--seed", help=str(words().help_seed())),
) -> None:
    settings = Settings()
    try:
        with transaction(engine_from_settings(settings)) as session:
            summary = seed_demo(session, ZoneInfo(settings.timezone), plan, seed)
    except DemoError:
        fail(str(words().no_plan(plan)))
        return
    typer.echo(str(words().demo_done(summary)))


@demo_app.command("clear", help=str(words().help_demo_clear()))
def demo_clear() -> None:
    with transaction(get_engine()) as session:
        removed = remove_demo(session)
    typer.echo(str(words().demo_cleared(removed)))


def register(app: typer.Typer) -> None:
    app.command("report", help=str(words().help_report()))(report)
    app.add_typer(demo_app, name="demo")
