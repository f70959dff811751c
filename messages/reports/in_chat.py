"""The compiled report as chat replies: the summary, then the .xlsx, the .docx and the chart.

`compile_job` is the `core.flows.compiled_report.CompileJob` port: /tonghop's flow hands the
job it builds to `ctx.after_commit`, so the slow part runs after the update has committed, in
a read-only session of its own. The files are written under `<data dir>/reports/`; folders
older than a day are removed on the next request.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session

from core.commands import ChatConfig
from core.flows.compiled_report import AfterCommitJob
from core.outgoing import Document, Outgoing
from core.report_model import Scope
from messages.render import environment
from messages.reports.build import MIME, Format, compile_report, file_name, write_output
from messages.reports.summary import summary_text
from storage.reports.query import ScopeError, letterhead

KEEP_SECONDS = 24 * 3600


@cache
def words() -> Any:
    return environment().get_template("report/chat_words.j2").module


def output_dir(data_dir: Path, contact_id: int) -> Path:
    """A fresh folder for one request's files; yesterday's folders go."""
    root = data_dir / "reports"
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in root.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    folder = root / f"{contact_id}-{secrets.token_hex(6)}"
    folder.mkdir()
    return folder


def compile_job(
    config: ChatConfig, scope: Scope, now: datetime, contact_id: int, label: str
) -> AfterCommitJob:
    def job(session: Session) -> Sequence[Outgoing]:
        return compiled_replies(session, config, scope, now, contact_id, label)

    return job


def compiled_replies(
    session: Session, config: ChatConfig, scope: Scope, now: datetime, contact_id: int, label: str
) -> list[Outgoing]:
    tz = config.timezone
    try:
        report = compile_report(session, scope, tz, now)
        head = letterhead(
            session,
            report.data.plan,
            config.report_issuer,
            config.report_place,
            config.report_signer,
            config.report_signer_title,
        )
    except ScopeError:
        return [Outgoing(str(words().scope_gone()))]
    if not report.data.tasks and not report.documents:
        return [Outgoing(str(words().empty(label)))]
    folder = output_dir(config.data_dir, contact_id)
    replies = [Outgoing(summary_text(report))]
    for fmt in (Format.XLSX, Format.DOCX, Format.PNG):
        name = file_name(report, fmt)
        path = write_output(fmt, report, folder / name, tz, head, session)
        caption = str(words().caption(fmt.value, report.data.plan.code, report.data.as_of))
        attachment = Document(name, path=str(path), mime_type=MIME[fmt.value])
        if fmt is Format.PNG:
            replies.append(Outgoing(caption, photo=attachment))
        else:
            replies.append(Outgoing(caption, document=attachment))
    return replies
