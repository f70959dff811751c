"""The day change for stored evaluations: once a day, every assignment's verdict is recomputed.

The dashboard reads each assignment's evaluation from the database (storage/reports/
evaluation_store.py) instead of evaluating a nationwide plan per page. A report refreshes its
agency's rows in its own transaction; what no report touches still changes with the date
("đến hạn" becomes "quá hạn", days late grow), so the first tick of each day recomputes all.
The day marker commits with the rows, as the digest's does: a crash leaves neither.
"""

from __future__ import annotations

import logging

from scheduler.context import Scheduling
from scheduler.digest import claim_day
from storage.db import transaction
from storage.reports.evaluation_store import refresh_all

log = logging.getLogger("parbot.evaluations")


def refresh_evaluations(ctx: Scheduling) -> int:
    """Recompute the stored evaluations once per calendar day; rows written (0: done today)."""
    today, now = ctx.today(), ctx.now()
    with transaction(ctx.engine) as session:
        if not claim_day(session, "evaluations", today, now):
            return 0
        written = refresh_all(session, ctx.tz, now)
    log.info("evaluations refreshed day=%s rows=%s", today.isoformat(), written)
    return written
