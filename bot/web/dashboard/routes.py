"""Dashboard pages: Tổng quan, Ma trận, Cơ quan, Chưa báo cáo, Kỳ báo cáo, Tải về.

Every page asks core who may see what (`core.report_model.scope_for`): the requested scope is
narrowed (a focal point is pinned to their agency) or refused with the audited 403 page. Pages
read `storage.reports.evaluation_store` — never a fresh compile — so they stay fast on a
nationwide plan; only *Tải về* compiles, as `parbot report` does.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.auth import viewer_of
from bot.web.dashboard.nudge import NUDGERS
from bot.web.dashboard.nudge import ROUTES as NUDGE_ROUTES
from bot.web.dashboard.review import ROUTES as REVIEW_ROUTES
from bot.web.dashboard.review import open_difficulties, pending_documents, pending_extensions
from bot.web.pages import forbidden, html_environment, page
from core.commands import Actor
from core.report_model import VERDICTS, CompiledReport, ReportRefused, Scope, scope_for
from core.review import may_review
from core.round_documents import asks_document
from messages.reports.build import MIME, Format, compile_report, file_name, write_output
from messages.reports.chart import write_chart
from messages.reports.labels import kind_label, status_label, verdict_label
from storage.db import transaction
from storage.reports import evaluation_store as store
from storage.reports.query import letterhead as load_letterhead
from storage.reports.round_documents import unsent as unsent_documents
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import (
    Agency,
    Area,
    Contact,
    EvidenceFile,
    ReportingRound,
    StatusReport,
    Task,
)

PER_PAGE = 25  # 25 agencies × a plan's ~70 tasks: one screen, and rendered quickly
WORDS = {"verdict": verdict_label, "kind": kind_label, "status": status_label}


def _requested(request: Request, **fixed: str | None) -> Scope:
    q = request.query_params
    return Scope(
        round_code=fixed.get("round_code", q.get("ky") or None),
        area_code=q.get("linh_vuc") or None,
        agency_kind=q.get("loai") or None,
        agency_code=fixed.get("agency_code", q.get("co_quan") or None),
    )


def _granted(request: Request, requested: Scope, target: str) -> tuple[Actor, Scope] | Response:
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    try:
        return viewer, scope_for(viewer.role.value, viewer.agency_code, requested)
    except ReportRefused as refused:
        return forbidden(request, target, refused.reason)


def _today(request: Request) -> date:
    web = request.app.state.web
    return web.clock.now().astimezone(web.tz).date()


def _filters(session: Any, view: store.View) -> dict[str, Any]:
    areas = session.execute(
        select(Area.code, Area.title).where(Area.plan_id == view.plan.id).order_by(Area.position)
    ).all()
    rounds = session.execute(
        select(ReportingRound.code, ReportingRound.title).order_by(ReportingRound.deadline)
    ).all()
    return {
        "areas": areas,
        "rounds": rounds,
        "kinds": ["department", "district", "commune", "vertical", "public_unit", "other"],
        "verdicts": [v.value for v in VERDICTS],
    }


def _view(request: Request, session: Any, scope: Scope, verdict: str | None = None) -> store.View:
    """The stored view a page reads, stored first if nobody has kept it today (a round opened
    since the day's refresh, a closed round): raises `LookupError` like `view_for`."""
    web = request.app.state.web
    view = store.view_for(session, scope, verdict)
    store.ensure_stored(session, view, web.tz, web.clock.now())
    return view


def _bad_filter(request: Request, what: str) -> Response:
    return page(request, "web/dashboard/bad_filter.j2", status=400, what=what)


def _summary(
    request: Request, target: str
) -> tuple[Scope, CompiledReport, dict[str, Any]] | Response:
    """The counts *Tổng quan* shows, as of the date they were judged for: its table and its
    chart read this one summary, so their figures and their date are the same."""
    got = _granted(request, _requested(request), target)
    if isinstance(got, Response):
        return got
    _viewer, scope = got
    web = request.app.state.web
    with transaction(web.engine) as session:
        try:
            view = _view(request, session, scope)
        except LookupError as unknown:
            return _bad_filter(request, str(unknown))
        as_of = store.stored_as_of(session, view) or _today(request)
        report = store.summary(session, view, as_of, web.clock.now())
        filters = _filters(session, view)
    return scope, report, filters


async def overview(request: Request) -> Response:
    found = _summary(request, "overview")
    if isinstance(found, Response):
        return found
    scope, report, filters = found
    return page(
        request,
        "web/dashboard/overview.j2",
        report=report,
        scope=scope,
        query=request.url.query,
        words=WORDS,
        **filters,
    )


async def chart(request: Request) -> Response:
    found = _summary(request, "overview.chart")
    if isinstance(found, Response):
        return found
    _scope, report, _unused = found
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chart.png"
        await asyncio.to_thread(write_chart, report, path)
        return Response(path.read_bytes(), media_type="image/png")


async def matrix(request: Request) -> Response:
    got = _granted(request, _requested(request), "matrix")
    if isinstance(got, Response):
        return got
    _viewer, scope = got
    web = request.app.state.web
    try:
        number = int(request.query_params.get("trang") or 1)
    except ValueError:
        number = 1
    with transaction(web.engine) as session:
        try:
            view = _view(request, session, scope, request.query_params.get("trang_thai") or None)
        except LookupError as unknown:
            return _bad_filter(request, str(unknown))
        grid = store.matrix(session, view, number, PER_PAGE)
        filters = _filters(session, view)
    base = {k: v for k, v in request.query_params.items() if k != "trang" and v}
    return page(
        request,
        "web/dashboard/matrix.j2",
        grid=grid,
        rows=_grid_rows(grid),
        scope=scope,
        status=200,
        chosen=view.verdict,
        base=base,
        words=WORDS,
        **filters,
    )


def _grid_rows(grid: store.MatrixPage) -> list[tuple[Any, Markup]]:
    """Each agency's row of cells as HTML. A page holds ~1,750 cells but few distinct ones
    (task × verdict × role × days late), so each distinct cell is rendered once from
    `web/dashboard/_cell.j2` and reused: Jinja per cell cost ~100 ms a page."""
    macros = html_environment().get_template("web/dashboard/_cell.j2").module
    labels = {v.value: verdict_label(v.value) for v in VERDICTS}
    empty = macros.empty()  # type: ignore[attr-defined]
    rendered: dict[tuple[Any, ...], Markup] = {}
    rows: list[tuple[Any, Markup]] = []
    cells = grid.cells
    for agency in grid.agencies:
        parts: list[str] = []
        for task_id, ref, _title in grid.tasks:
            found = cells.get((agency.id, task_id))
            if found is None:
                parts.append(empty)
                continue
            key = (task_id, found.verdict, found.lead, found.days_overdue)
            html = rendered.get(key)
            if html is None:
                html = rendered[key] = macros.cell(  # type: ignore[attr-defined]
                    ref, found.verdict, labels[found.verdict], found.lead, found.days_overdue
                )
            parts.append(html)
        rows.append((agency, Markup("".join(parts))))  # every part is already Markup
    return rows


async def agency(request: Request) -> Response:
    code = request.path_params["code"]
    got = _granted(request, _requested(request, agency_code=code), f"agency:{code[:40]}")
    if isinstance(got, Response):
        return got
    viewer, scope = got
    if (scope.agency_code or "").upper() != code.upper():
        return forbidden(request, f"agency:{code[:40]}")
    web = request.app.state.web
    with transaction(web.engine) as session:
        found = session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
        if found is None:
            return page(request, "web/not_found.j2", status=404)
        try:
            view = _view(request, session, Scope(round_code=scope.round_code))
        except LookupError as unknown:
            return _bad_filter(request, str(unknown))
        tasks = store.agency_evaluations(session, view, found.id)
        reports = session.execute(
            select(
                StatusReport.id,
                StatusReport.task_id,
                StatusReport.version,
                StatusReport.status,
                StatusReport.result,
                StatusReport.submitted_at,
                StatusReport.receipt,
                Contact.display_name,
                StatusReport.is_latest,
                StatusReport.review,
                StatusReport.review_reason,
                StatusReport.difficulties,
                StatusReport.answer,
            )
            .outerjoin(Contact, Contact.id == StatusReport.reporter_id)
            .join(Task, Task.id == StatusReport.task_id)
            .where(StatusReport.agency_id == found.id, Task.plan_id == view.plan.id)
            .order_by(StatusReport.task_id, StatusReport.submitted_at, StatusReport.version)
        ).all()
        evidence: dict[int, list[Any]] = {}
        ids = [r.id for r in reports]
        if ids:
            for ev in session.execute(
                select(
                    EvidenceFile.id,
                    EvidenceFile.report_id,
                    EvidenceFile.file_name,
                    EvidenceFile.size,
                ).where(EvidenceFile.report_id.in_(ids))
            ):
                evidence.setdefault(ev.report_id, []).append(ev)
        by_task: dict[int, list[Any]] = {}
        for r in reports:
            by_task.setdefault(r.task_id, []).append(r)
        focal = session.execute(
            select(Contact.display_name, Contact.channel, Contact.role, Contact.created_at)
            .where(Contact.agency_id == found.id)
            .order_by(Contact.display_name)
        ).all()
        last = {r.display_name: r.submitted_at for r in reports if r.display_name}
        reviewer = may_review(viewer) is None
        extensions = pending_extensions(session, found.id) if reviewer else []
        documents = pending_documents(session, found.id, web.tz) if reviewer else []
        latest = [(r.id, r.is_latest, r.status, r.difficulties) for r in reports]
        unanswered = open_difficulties(session, web.tz, latest) if reviewer else set()
    return page(
        request,
        "web/dashboard/agency.j2",
        agency=found,
        tasks=tasks,
        by_task=by_task,
        evidence=evidence,
        focal=focal,
        last=last,
        tz=web.tz,
        words=WORDS,
        may_review=reviewer,
        extensions=extensions,
        documents=documents,
        unanswered=unanswered,
        answer_limit=web.limits.max_text_chars,
        decided=request.query_params.get("xong", "")[:40],
    )


def _file_by_id(request: Request, query: Callable[[int], Any], what: str) -> Response:
    """The file whose id is in the path, read by `query` as (name, type, bytes, agency code)."""
    try:
        file_id = int(request.path_params["id"])
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    web = request.app.state.web
    with transaction(web.engine) as session:
        row = session.execute(query(file_id)).one_or_none()
    return _stored_file(request, row, f"{what}:{file_id}")


async def evidence_file(request: Request) -> Response:
    """One evidence file, for a signed-in viewer whose scope holds its agency (audited 403)."""
    return _file_by_id(
        request,
        lambda file_id: select(
            EvidenceFile.file_name, EvidenceFile.mime_type, EvidenceFile.content, Agency.code
        )
        .join(StatusReport, StatusReport.id == EvidenceFile.report_id)
        .join(Agency, Agency.id == StatusReport.agency_id)
        .where(EvidenceFile.id == file_id),
        "evidence",
    )


async def document_file(request: Request) -> Response:
    """A round document as the agency sent it (the file a coordinator reviews), for a
    signed-in viewer whose scope holds its agency — the same rule as an evidence file."""
    return _file_by_id(
        request,
        lambda file_id: select(
            RoundSubmission.file_name,
            RoundSubmission.mime_type,
            RoundSubmission.content,
            Agency.code,
        )
        .join(Agency, Agency.id == RoundSubmission.agency_id)
        .where(RoundSubmission.id == file_id),
        "document_file",
    )


def _stored_file(request: Request, row: Any, target: str) -> Response:
    """(file name, mime type, bytes, agency code) as a download, when the viewer's scope holds
    the agency; 404 for no such file, the audited 403 page otherwise."""
    if row is None:
        return page(request, "web/not_found.j2", status=404)
    got = _granted(request, Scope(agency_code=row.code), target)
    if isinstance(got, Response):
        return got
    if got[1].agency_code not in (None, row.code):
        return forbidden(request, target)
    quoted = row.file_name.encode("ascii", "replace").decode().replace('"', "")
    named = quote(row.file_name, safe="")  # the Vietnamese name, for browsers that read it
    return Response(
        bytes(row.content),
        media_type=row.mime_type,
        headers={
            "content-disposition": f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{named}"
        },
    )


async def unreported(request: Request) -> Response:
    got = _granted(request, _requested(request), "unreported")
    if isinstance(got, Response):
        return got
    _viewer, scope = got
    web = request.app.state.web
    with transaction(web.engine) as session:
        open_rounds = session.execute(
            select(
                ReportingRound.code,
                ReportingRound.title,
                ReportingRound.deadline,
                ReportingRound.asks,
            )
            .where(ReportingRound.status == "open")
            .order_by(ReportingRound.deadline)
        ).all()
        code = scope.round_code or (open_rounds[0].code if open_rounds else None)
        rows: list[Any] = []
        document = any(r.code == code and asks_document(r.asks) for r in open_rounds)
        if code and document:  # a round asking for a document: who has not sent it
            rows = unsent_documents(session, code, _today(request), scope)
        elif code:
            try:
                view = _view(
                    request,
                    session,
                    Scope(
                        round_code=code,
                        area_code=scope.area_code,
                        agency_kind=scope.agency_kind,
                        agency_code=scope.agency_code,
                    ),
                )
            except LookupError as unknown:
                return _bad_filter(request, str(unknown))
            rows = store.unreported(session, view)
    return page(
        request,
        "web/dashboard/unreported.j2",
        rounds=open_rounds,
        chosen=code,
        rows=rows,
        document=document,
        may_nudge=_viewer.role in NUDGERS,
    )


async def rounds(request: Request) -> Response:
    got = _granted(request, _requested(request), "rounds")
    if isinstance(got, Response):
        return got
    web = request.app.state.web
    with transaction(web.engine) as session:
        rows = session.execute(
            select(
                ReportingRound.code,
                ReportingRound.title,
                ReportingRound.deadline,
                ReportingRound.status,
            ).order_by(ReportingRound.deadline)
        ).all()
    return page(request, "web/dashboard/rounds.j2", rounds=rows)


async def downloads(request: Request) -> Response:
    got = _granted(request, _requested(request), "downloads")
    if isinstance(got, Response):
        return got
    return page(request, "web/dashboard/downloads.j2", query=request.url.query)


async def download(request: Request) -> Response:
    """A report file compiled like `parbot report` (this one compiles: seconds nationwide)."""
    try:
        fmt = Format(request.path_params["fmt"])
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    if fmt not in (Format.XLSX, Format.PNG, Format.ZIP, Format.DOCX, Format.JSON):
        return page(request, "web/not_found.j2", status=404)
    got = _granted(request, _requested(request), f"download:{fmt.value}")
    if isinstance(got, Response):
        return got
    _viewer, scope = got
    web = request.app.state.web

    def build() -> tuple[str, bytes]:
        with transaction(web.engine) as session, tempfile.TemporaryDirectory() as folder:
            report = compile_report(session, scope, web.tz, web.clock.now())
            name = file_name(report, fmt)
            path = Path(folder) / name
            letterhead = None
            if fmt is Format.DOCX:
                config = web.config
                letterhead = load_letterhead(
                    session,
                    report.data.plan,
                    config.report_issuer,
                    config.report_place,
                    config.report_signer,
                )
            write_output(fmt, report, path, web.tz, letterhead, session)
            return name, path.read_bytes()

    try:
        name, body = await asyncio.to_thread(build)
    except LookupError as unknown:
        return _bad_filter(request, str(unknown))
    return Response(
        body,
        media_type=MIME[fmt.value],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def home(request: Request) -> Response:
    if viewer_of(request) is None:
        return page(request, "web/signed_out.j2")
    return RedirectResponse("/tong-quan", status_code=303)


ROUTES = [
    Route("/", home, methods=["GET"], name="dashboard.home"),
    Route("/tong-quan", overview, methods=["GET"], name="dashboard.overview"),
    Route("/tong-quan/bieu-do.png", chart, methods=["GET"], name="dashboard.chart"),
    Route("/ma-tran", matrix, methods=["GET"], name="dashboard.matrix"),
    Route("/co-quan/{code}", agency, methods=["GET"], name="dashboard.agency"),
    Route("/minh-chung/{id}", evidence_file, methods=["GET"], name="dashboard.evidence"),
    Route("/van-ban/{id}", document_file, methods=["GET"], name="dashboard.document_file"),
    Route("/chua-bao-cao", unreported, methods=["GET"], name="dashboard.unreported"),
    *NUDGE_ROUTES,
    *REVIEW_ROUTES,
    Route("/ky-bao-cao", rounds, methods=["GET"], name="dashboard.rounds"),
    Route("/tai-ve", downloads, methods=["GET"], name="dashboard.downloads"),
    Route("/tai-ve/{fmt}", download, methods=["GET"], name="dashboard.download"),
]
