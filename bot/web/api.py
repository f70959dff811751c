"""The read-only JSON API for the province's own systems.

`GET /api/v1/report` answers the same document as `parbot report -f json`, with the same
filters (plan, round, as_of, area, kind, agency) as query parameters, to a bearer API token
made by an admin (`parbot api token create`). The OpenAPI description is at
`/api/v1/openapi.json`. A compiled report is slow work on a nationwide plan, so it runs in a
worker thread, off the event loop.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.conversation import parse_date
from core.report_model import Scope
from messages.reports.build import compile_report
from messages.reports.json_export import report_dict
from storage.chat.state import audit
from storage.db import transaction
from storage.reports.query import ScopeError
from storage.web.tokens import api_token_for

FILTERS = {
    "plan": "plan_code",
    "round": "round_code",
    "area": "area_code",
    "kind": "agency_kind",
    "agency": "agency_code",
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def report(request: Request) -> Response:
    web = request.app.state.web
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _error(401, "unauthorized", "Cần mã truy cập API (Authorization: Bearer …).")
    query = request.query_params
    unknown = sorted(set(query) - set(FILTERS) - {"as_of"})
    if unknown:
        return _error(400, "bad_parameter", f"Tham số không hỗ trợ: {', '.join(unknown)}.")
    as_of = None
    if query.get("as_of"):
        as_of = parse_date(query["as_of"])
        if as_of is None:
            return _error(400, "bad_date", "Ngày as_of không hợp lệ (YYYY-MM-DD hoặc DD/MM/YYYY).")
    filters: dict[str, Any] = {FILTERS[k]: query[k] for k in FILTERS if query.get(k)}
    scope = Scope(as_of=as_of, **filters)
    return await run_in_threadpool(_compile, web, token.strip(), scope)


def _compile(web: Any, token: str, scope: Scope) -> Response:
    with transaction(web.engine) as session:
        now = web.clock.now()
        row = api_token_for(session, token, now)
        if row is None:
            audit(session, "api:unknown", "api.report", "report", "refused", None, now)
            return _error(401, "unauthorized", "Mã truy cập API không đúng hoặc đã bị thu hồi.")
        audit(session, f"api:{row.prefix}", "api.report", "report", "ok", row.contact_id, now,
              scope={k: v for k, v in vars_of(scope).items() if v})
    with transaction(web.engine) as session:
        try:
            compiled = compile_report(session, scope, web.tz, web.clock.now())
        except ScopeError as exc:
            return _error(404, "not_found", f"Không tìm thấy {exc.what}: {exc.value}.")
        return JSONResponse(report_dict(compiled))


def vars_of(scope: Scope) -> dict[str, Any]:
    return {name: getattr(scope, name) for name in scope.__slots__}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "parbot API",
        "version": "1",
        "description": "Báo cáo tổng hợp kế hoạch cải thiện PAR INDEX (chỉ đọc).",
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"token": []}],
    "paths": {
        "/api/v1/report": {
            "get": {
                "summary": "Báo cáo tổng hợp, như `parbot report -f json`",
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
                     "description": what}
                    for name, what in (
                        ("plan", "mã kế hoạch"),
                        ("round", "mã kỳ báo cáo"),
                        ("as_of", "tính đến ngày (YYYY-MM-DD)"),
                        ("area", "mã lĩnh vực (I–VIII)"),
                        ("kind", "loại cơ quan"),
                        ("agency", "mã cơ quan"),
                    )
                ],
                "responses": {
                    "200": {"description": "Tài liệu JSON của báo cáo tổng hợp",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "Tham số không hợp lệ"},
                    "401": {"description": "Thiếu hoặc sai mã truy cập"},
                    "404": {"description": "Không có kế hoạch, kỳ, lĩnh vực hoặc cơ quan này"},
                },
            }
        }
    },
}


async def openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


ROUTES = [
    Route("/api/v1/report", report, methods=["GET"], name="api_report"),
    Route("/api/v1/openapi.json", openapi, methods=["GET"], name="api_openapi"),
]
