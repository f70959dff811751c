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

from bot.cli.support import fail, ready_engine
from bot.settings import Settings
from core.clock import SystemClock
from core.conversation import parse_date
from core.names import KIND_WORDS_SHOWN, kind_from_words
from core.report_model import Progress as ProgressFn
from core.report_model import Scope
from messages.render import environment, render
from messages.reports.build import Format, compile_report, write_output
from messages.reports.json_export import report_json
from messages.reports.summary import markdown
from storage.agency_names import resolve_agency
from storage.db import transaction
from storage.demo import DemoError, remove_demo, seed_demo
from storage.demo_recipients import link_demo_recipients, unlink_demo_recipients
from storage.plans import plan_by_code
from storage.reports.evaluation_store import forget_all
from storage.reports.query import ScopeError, letterhead
from storage.tables.shared import StatusReport, Task, utcnow

LARGE = 20_000  # reports: above this a progress bar is shown


@cache
def words() -> Any:
    return environment().get_template("report/cli.j2").module


def parse_as_of(value: str | None, today: date) -> date | None:
    """The evaluation date ("tính đến ngày …"): a real date, not after today."""
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        fail(str(words().bad_date(value)))
    assert parsed is not None
    if parsed > today:
        fail(str(words().future_date(value, today)))
    return parsed


def choose_format(fmt: str | None, out: Path | None) -> Format:
    """-f when given, else the output file's extension; a mismatch of the two is refused
    (a .docx name holding a workbook is worse than no file)."""
    suffix = out.suffix.lower().lstrip(".") if out is not None else ""
    from_name = Format(suffix) if suffix in {f.value for f in Format} else None
    if fmt is None:
        if from_name is not None:
            return from_name
        if out is not None:
            fail(str(words().unknown_extension(out.name)))
        return Format.XLSX
    try:
        chosen = Format(fmt.strip().lower())
    except ValueError:
        fail(str(words().bad_format(fmt)))
        raise  # unreachable: fail() exits
    if out is not None and from_name is not None and from_name is not chosen:
        fail(str(words().format_mismatch(chosen.value, out.name)))
    return chosen


def parse_kind(value: str | None) -> str | None:
    """`--kind sở`, `--kind "cấp xã"` or `--kind commune`."""
    if value is None:
        return None
    kind = kind_from_words(value)
    if kind is None:
        fail(str(words().bad_kind(value, KIND_WORDS_SHOWN)))
    assert kind is not None
    return kind.value


def agency_code_of(session: Any, typed: str | None) -> str | None:
    """`--agency STP`, `--agency 'tư pháp'`: one agency, or a clear error listing candidates."""
    if typed is None:
        return None
    match = resolve_agency(session, typed)
    if match.code is None:
        fail(str(words().agency_unclear(typed, match.candidates[:5], len(match.candidates))))
    return match.code


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
    fmt: str | None = typer.Option(None, "--format", "-f", help=str(words().help_format())),
    out: Path | None = typer.Option(None, "--out", "-o", help=str(words().help_out())),
    plan: str | None = typer.Option(None, "--plan", help=str(words().help_plan())),
    round_code: str | None = typer.Option(None, "--round", help=str(words().help_round())),
    as_of: str | None = typer.Option(None, "--as-of", help=str(words().help_as_of())),
    area: str | None = typer.Option(None, "--area", help=str(words().help_area())),
    kind: str | None = typer.Option(None, "--kind", help=str(words().help_kind())),
    agency: str | None = typer.Option(None, "--agency", help=str(words().help_agency())),
) -> None:
    """Xuất báo cáo tổng hợp (xlsx, docx, png, md, json, zip)."""
    chosen = choose_format(fmt, out)
    if out is None and chosen not in (Format.MD, Format.JSON):
        fail(str(words().need_out(chosen.value)))
    settings = Settings()
    tz = ZoneInfo(settings.timezone)
    now = SystemClock().now()
    today = now.astimezone(tz).date()
    engine = ready_engine(settings)
    with transaction(engine) as session:
        scope = Scope(
            plan_code=plan,
            round_code=round_code,
            area_code=area,
            agency_kind=parse_kind(kind),
            agency_code=agency_code_of(session, agency),
            # explicit, shown in every view, the same for all of them: today unless asked
            as_of=parse_as_of(as_of, today) or today,
        )
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
                        settings.report_signer_title,
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
        with transaction(ready_engine(settings)) as session:
            summary = seed_demo(session, ZoneInfo(settings.timezone), plan, seed)
            reachable = link_demo_recipients(session)  # so /nhacnho can be tried on the console
            forget_all(session, utcnow())  # the dashboard stores its verdicts again
    except DemoError:
        fail(str(words().no_plan(plan)))
        return
    typer.echo(str(words().demo_done(summary)))
    typer.echo(render("demo/recipients.j2", recipients=reachable))


@demo_app.command("clear", help=str(words().help_demo_clear()))
def demo_clear() -> None:
    with transaction(ready_engine()) as session:
        removed = remove_demo(session)
        unlink_demo_recipients(session)
        forget_all(session, utcnow())
    typer.echo(str(words().demo_cleared(removed)))


def register(app: typer.Typer) -> None:
    app.command("report", help=str(words().help_report()))(report)
    app.add_typer(demo_app, name="demo")
