"""CLI: database, seed, plans and agencies."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

import typer
from sqlmodel import Session, select

from bot.cli.support import fail, get_engine, ready_engine
from bot.settings import Settings
from core import model
from core.model import AssignmentRole
from core.names import KIND_WORDS_SHOWN, kind_from_words
from core.plan_table import PlanFormatError
from messages.render import render
from storage.agencies import AgencyFileError, import_agencies, import_groups
from storage.agency_names import agency_count
from storage.db import transaction
from storage.importers import read_plan
from storage.migrate import upgrade_reporting
from storage.plans import (
    ImportSummary,
    PlanMeta,
    count_assignments,
    load_plan,
    plan_by_code,
    save_plan,
)
from storage.reports.evaluation_store import forget_all
from storage.review.store import set_plan_review
from storage.seed import load_seed
from storage.tables.shared import Agency, Plan, Task, utcnow

db_app = typer.Typer(no_args_is_help=True, help="Cơ sở dữ liệu.")
plan_app = typer.Typer(no_args_is_help=True, help="Kế hoạch và nhiệm vụ.")
agency_app = typer.Typer(no_args_is_help=True, help="Cơ quan, đơn vị.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu."""
    found = upgrade_reporting(get_engine())
    typer.echo(render("cli/db_upgraded.j2", found=found.value))


def print_summary(summary: ImportSummary) -> None:
    typer.echo(
        f"Kế hoạch {summary.plan_code}: {summary.areas} lĩnh vực, {summary.tasks} nhiệm vụ, "
        f"{summary.assignments} phân công ({summary.lead_assignments} chủ trì, "
        f"{summary.coordinating_assignments} phối hợp)."
    )
    if summary.created_tasks or summary.removed_tasks:
        typer.echo(
            f"  mới: {summary.created_tasks}, cập nhật: {summary.updated_tasks}, "
            f"bỏ: {summary.removed_tasks}"
        )
    if summary.kept_tasks:
        typer.echo("  giữ lại (đã có báo cáo): " + ", ".join(summary.kept_tasks))
    if summary.flagged_schedules:
        typer.echo("Tiến độ cần điều phối viên xác định ngày:")
        for ref, text in summary.flagged_schedules:
            typer.echo(f"  {ref}: {text!r}")
    if summary.unresolved:
        typer.echo(f"Tên cơ quan chưa xác định ({len(summary.unresolved)}):")
        for ref, text in summary.unresolved:
            typer.echo(f"  {ref}: {text}")


def seed(folder: Path | None = typer.Option(None, help="Thư mục dữ liệu tỉnh.")) -> None:
    """Nạp cơ quan, kế hoạch 2024 và kỳ báo cáo từ thư mục dữ liệu (chạy lại không đổi gì)."""
    settings = Settings()
    engine = ready_engine(settings)
    try:
        result = load_seed(engine, folder or settings.seed_folder())
    except (PlanFormatError, AgencyFileError, OSError) as exc:
        fail(str(exc))
    plan = result.plan
    if not (result.agencies.created or plan.created_tasks or plan.removed_tasks):
        # `make run` seeds on every start: a reload that changed nothing says so in one line
        # (the import's notes, such as names not in the directory, were shown the first time)
        typer.echo(render("cli/seed_unchanged.j2", plan=plan, rounds=result.rounds))
        return
    typer.echo(
        f"Cơ quan: {result.agencies.created} mới, {result.agencies.updated} đã có. "
        f"Kỳ báo cáo: {result.rounds}."
    )
    print_summary(plan)


def _guess_year(path: Path) -> int | None:
    found = re.search(r"(20\d\d)", path.name)
    return int(found.group(1)) if found else None


@plan_app.command("import")
def plan_import(
    file: Path = typer.Argument(
        ..., metavar="TỆP", help="Tệp .docx, .xlsx, .csv hoặc .txt của phụ lục."
    ),
    code: str | None = typer.Option(None, "--code", help="Mã kế hoạch, ví dụ PAR-2024."),
    year: int | None = typer.Option(None, "--year", help="Năm của kế hoạch."),
    title: str | None = typer.Option(None, "--title", help="Tên kế hoạch."),
) -> None:
    """Nhập (hoặc cập nhật) một kế hoạch từ bảng phụ lục."""
    year = year or _guess_year(file)
    engine = ready_engine()
    try:
        draft = read_plan(file)
        with transaction(engine) as session:
            if not agency_count(session):
                fail(render("cli/no_agencies.j2"))
            existing = plan_by_code(session, code) if code else None
            year = year or (existing.year if existing else None)
            if year is None:
                fail("không xác định được năm của kế hoạch; dùng --year")
            assert year is not None
            code = code or f"PAR-{year}"
            meta = PlanMeta(
                code=code,
                title=title
                or (existing.title if existing else f"Kế hoạch cải thiện Chỉ số CCHC năm {year}"),
                year=year,
                source=file.name,
            )
            show_bar = len(draft.tasks) >= 200 and sys.stderr.isatty()
            if show_bar:
                with typer.progressbar(
                    length=len(draft.tasks), label="Đang nhập", file=sys.stderr
                ) as bar:
                    summary = save_plan(session, meta, draft, progress=lambda _d, _t: bar.update(1))
            else:
                summary = save_plan(session, meta, draft)
            forget_all(session, utcnow())  # the dashboard's stored verdicts are stored again
    except (PlanFormatError, OSError) as exc:
        fail(str(exc))
    print_summary(summary)


@plan_app.command("list")
def plan_list() -> None:
    """Các kế hoạch đã nhập."""
    with Session(ready_engine()) as session:
        plans = session.exec(select(Plan).order_by(Plan.year, Plan.code)).all()
        if not plans:
            typer.echo("Chưa có kế hoạch nào. Dùng: parbot plan import TỆP")
        for plan in plans:
            tasks = len(session.exec(select(Task.id).where(Task.plan_id == plan.id)).all())
            typer.echo(
                f"{plan.code}\t{plan.year}\t{tasks} nhiệm vụ\t"
                f"{count_assignments(session, plan.id or 0)} phân công\t{plan.title}"
            )


def plan_rows(plan: model.Plan) -> list[dict]:
    """One JSON-ready object per task, in appendix order."""
    return [
        {
            "area": t.area,
            "ref": t.ref,
            "title": t.title,
            "schedule": t.schedule,
            "deadline": t.rule.due.isoformat() if t.rule.due else None,
            "recurrence": t.rule.recurrence,
            "lead": t.agencies(AssignmentRole.LEAD),
            "coordinating": t.agencies(AssignmentRole.COORDINATE),
            "expected_output": t.expected_output,
        }
        for t in plan.tasks
    ]


@plan_app.command("review")
def plan_review(
    code: str | None = typer.Argument(
        None, metavar="[MÃ]", help="Mã kế hoạch (mặc định: kế hoạch mới nhất)."
    ),
    on: bool | None = typer.Option(
        None, "--bat/--tat", help="Bật hoặc tắt việc duyệt báo cáo (không ghi: xem hiện trạng)."
    ),
) -> None:
    """Báo cáo của kế hoạch có cần điều phối viên duyệt (Đạt / Trả lại) hay không."""
    with transaction(ready_engine()) as session:
        plan = plan_by_code(session, code)
        if plan is None:
            fail(f"không có kế hoạch {code}" if code else "chưa có kế hoạch nào")
        assert plan is not None
        if on is not None:
            set_plan_review(session, plan.code, on)
        typer.echo(
            render(
                "cli/plan_review.j2", code=plan.code, on=plan.review_reports, changed=on is not None
            )
        )


@plan_app.command("show")
def plan_show(
    code: str | None = typer.Argument(
        None, metavar="[MÃ]", help="Mã kế hoạch (mặc định: kế hoạch mới nhất)."
    ),
    as_json: bool = typer.Option(False, "--json", help="In JSON, mỗi nhiệm vụ một đối tượng."),
) -> None:
    """Các nhiệm vụ của một kế hoạch."""
    with Session(ready_engine()) as session:
        plan = plan_by_code(session, code)
        if plan is None:
            fail(f"không có kế hoạch {code}" if code else "chưa có kế hoạch nào")
        assert plan is not None
        rows = plan_rows(load_plan(session, plan))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{plan.code} — {plan.title}")
    for row in rows:
        due = date.fromisoformat(row["deadline"]) if row["deadline"] else None
        deadline = render("cli/plan_deadline.j2", due=due, recurrence=row["recurrence"])
        typer.echo(
            f"{row['ref']:<11} {deadline:<11} chủ trì: {len(row['lead']):>3}  "
            f"phối hợp: {len(row['coordinating']):>3}  {row['title'][:70]}"
        )


@agency_app.command("list")
def agency_list(
    as_json: bool = typer.Option(False, "--json", help="In JSON."),
    kind: str | None = typer.Option(
        None, "--kind", help="Chỉ một loại cơ quan: sở, huyện, xã, ngành dọc, sự nghiệp, khác."
    ),
) -> None:
    """Danh sách cơ quan, đơn vị."""
    wanted = kind_from_words(kind) if kind else None
    if kind and wanted is None:
        fail(render("cli/bad_kind.j2", value=kind, words=KIND_WORDS_SHOWN))
    with Session(ready_engine()) as session:
        query = select(Agency).order_by(Agency.id)
        if wanted is not None:
            query = query.where(Agency.kind == wanted.value)
        agencies = session.exec(query).all()
        parents: dict[int | None, str] = {a.id: a.code for a in session.exec(select(Agency))}
    rows = [
        {"code": a.code, "name": a.name, "kind": a.kind, "parent": parents.get(a.parent_id)}
        for a in agencies
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        fail(render("cli/no_agencies.j2", kind=kind or ""))
    for row in rows:
        label = render("cli/kind_label.j2", kind=row["kind"])
        typer.echo(f"{row['code']:<14} {label:<26} {row['name']}")


@agency_app.command("import")
def agency_import(
    file: Path = typer.Argument(..., help="CSV: code,name,kind,parent,aliases,active"),
) -> None:
    """Thêm hoặc cập nhật cơ quan từ tệp CSV."""
    try:
        with transaction(ready_engine()) as session:
            summary = import_agencies(session, file)
    except (AgencyFileError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    typer.echo(f"Cơ quan: {summary.created} mới, {summary.updated} cập nhật.")


@agency_app.command("groups")
def agency_groups(
    file: Path = typer.Argument(..., help="CSV: phrase,kinds (ví dụ: Sở, ban, ngành,department)"),
) -> None:
    """Nạp cụm từ chỉ nhóm cơ quan ("Các sở, ban, ngành") và loại cơ quan tương ứng."""
    try:
        with transaction(ready_engine()) as session:
            count = import_groups(session, file)
    except (AgencyFileError, OSError, UnicodeDecodeError, KeyError) as exc:
        fail(str(exc))
    typer.echo(f"Cụm từ nhóm cơ quan: {count}.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(plan_app, name="plan")
    app.add_typer(agency_app, name="agency")
    app.command("seed")(seed)
