"""«Nhắc» on *Chưa báo cáo*: the same broadcast `/nhacnho` writes (outbox rows + audit row).

Only coordinators and admins may nudge (as in chat); a POST needs the session's CSRF token.
One agency (`co_quan`) is nudged as a hand-picked audience, otherwise everyone who has not
reported in the round (`ky`) — the recipients are chosen by `storage.scheduling.broadcast`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.auth import csrf_ok, small_form, viewer_of
from bot.web.pages import audit_web, forbidden, page
from core.broadcast import AudienceKind, BroadcastAudience
from core.model import UserRole
from core.outgoing import Outgoing
from messages.render import render
from storage.db import transaction
from storage.scheduling.broadcast import BroadcastError, create_broadcast, recipients
from storage.scheduling.calendar import default_years, load_calendar
from storage.tables.shared import Contact

NUDGERS = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})


async def nudge(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    form = await small_form(request)
    if not csrf_ok(request, form):
        return forbidden(request, "nudge", reason="csrf")
    if viewer.role not in NUDGERS:
        return forbidden(request, "nudge", reason="role")
    round_code = form.get("ky", "").strip()
    agency_code = form.get("co_quan", "").strip()
    if agency_code:
        audience = BroadcastAudience(AudienceKind.PICKED, codes=(agency_code,))
    else:
        audience = BroadcastAudience(AudienceKind.NOT_REPORTED, round_code)
    web = request.app.state.web
    now = web.clock.now()
    today = now.astimezone(web.tz).date()
    sender_name = viewer.display_name or viewer.agency_name
    text = render("web/dashboard/nudge_message.j2", round_code=round_code)
    try:
        with transaction(web.engine) as session:
            calendar = load_calendar(session, default_years(today))
            targets = recipients(session, audience, today, web.tz, calendar)
            row = create_broadcast(
                session,
                audience=audience,
                message=Outgoing(render("broadcast/message.j2", sender=sender_name, text=text)),
                progress=Outgoing(render("broadcast/progress_start.j2", total=len(targets))),
                targets=targets,
                sender=session.get(Contact, viewer.contact_id),
                actor=viewer.key,
                now=now,
            )
            count = row.total
    except BroadcastError as exc:
        audit_web(request, "web.nudge", round_code or agency_code, "refused", reason=str(exc))
        return page(request, "web/dashboard/nudged.j2", status=400, count=0, reason=str(exc))
    audit_web(request, "web.nudge", round_code or agency_code, "ok", count=count)
    return page(request, "web/dashboard/nudged.j2", count=count, reason="")


ROUTES = [Route("/chua-bao-cao/nhac", nudge, methods=["POST"], name="dashboard.nudge")]
