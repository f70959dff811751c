"""Generated files and evidence are kept in the database, so a link handed out by one worker
opens on any other (each with its own engine), and the generating host's disk copy may go."""

from __future__ import annotations

from sqlmodel import select

from bot.web.links import WebFileLinks
from core.model import UserRole
from core.outgoing import Document
from storage.db import make_engine, transaction
from storage.tables.shared import Agency, EvidenceFile, StatusReport, Task
from tests.bot.web.support import BASE, client_of, contact, web_of

PDF = b"%PDF-1.4\n% minh chung\n" + b"1" * 500


def evidence(engine) -> int:
    with transaction(engine) as session:
        task_id = session.exec(select(Task.id)).first()
        agency_id = session.exec(select(Agency.id).where(Agency.code == "SNV")).one()
        report = StatusReport(
            receipt="BC-ANY-1", task_id=task_id, agency_id=agency_id, status="done"
        )
        session.add(report)
        session.flush()
        row = EvidenceFile(
            report_id=report.id, file_name="quyet-dinh.pdf", mime_type="application/pdf",
            size=len(PDF), sha256="0" * 64, content=PDF,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


async def test_a_link_from_one_worker_opens_on_another(any_engine, tmp_path):
    other_engine = make_engine(any_engine.url.render_as_string(hide_password=False))
    issuing, serving = web_of(any_engine), web_of(other_engine)
    coordinator = contact(any_engine, 7300, "SNV", UserRole.COORDINATOR)
    generated = tmp_path / "tong-hop.docx"
    generated.write_bytes(b"PK\x03\x04 word")
    links = WebFileLinks(issuing)
    report_url = links.download(coordinator, Document("tong-hop.docx", path=str(generated)))
    evidence_url = links.download(
        coordinator, Document("quyet-dinh.pdf", evidence_id=evidence(any_engine))
    )
    assert report_url and evidence_url
    generated.unlink()  # the generating worker's disk is not where the link reads from
    try:
        async with client_of(serving) as phone:
            report = await phone.get(report_url.removeprefix(BASE))
            proof = await phone.get(evidence_url.removeprefix(BASE))
    finally:
        other_engine.dispose()
    assert report.status_code == 200 and report.content == b"PK\x03\x04 word"
    assert proof.status_code == 200 and proof.content == PDF
