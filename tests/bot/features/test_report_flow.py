"""/baocao's evidence and confirmation on the real PTB Application and the fake Bot API:
a file sent twice is named and not added twice, the review and the receipt count the same
files, a file can be taken out («Bỏ tệp»), «Hoàn thành» below the target asks to confirm, and
a report filed after its round's deadline says "nộp muộn"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import Session, select

from core.clock import FixedClock
from core.model import UserRole
from storage.tables.shared import EvidenceFile
from tests.support.chat import ChatBot, invite_code

FOCAL = 5151
NOW = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
FIRST = b"%PDF-1.4\n% quyet dinh cong bo\n" + bytes(range(256)) * 8
SECOND = b"%PDF-1.4\n% bao cao ket qua\n" + bytes(range(256)) * 9


async def test_evidence_twice_drop_a_file_confirm_and_late_receipt(engine, fake_api):
    api = fake_api
    async with ChatBot(api, engine, FixedClock(NOW)) as bot:
        code = invite_code(engine, "STP", UserRole.FOCAL, now=NOW)
        await bot.command(FOCAL, "start", code, expect="Đã liên kết")
        await bot.command(FOCAL, "baocao", "III.4.1", expect="Tình trạng hiện nay")
        await bot.press(FOCAL, "Hoàn thành", expect="mô tả ngắn")
        await bot.text(FOCAL, "Đã giải quyết 800/1.000 hồ sơ đúng hạn", expect="trên 95%")
        await bot.text(FOCAL, "80", expect="Khó khăn")
        await bot.press(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")
        await bot.send(
            api.make_document(FOCAL, "QĐ-công-bố TTHC.pdf", FIRST, "application/pdf"),
            expect="Đã nhận “QĐ-công-bố TTHC.pdf”",
        )
        twice = await bot.send(
            api.make_document(FOCAL, "ban-sao.pdf", FIRST, "application/pdf"),
            expect="giống hệt",
        )
        said = "\n".join(c.text for c in twice if c.text)
        assert "“ban-sao.pdf”" in said and "“QĐ-công-bố TTHC.pdf”" in said
        assert "Đã nhận “QĐ-công-bố TTHC.pdf”" not in said
        await bot.send(
            api.make_document(FOCAL, "bao-cao.pdf", SECOND, "application/pdf"),
            expect="Tổng cộng: 2 tệp",
        )
        review = (await bot.press(FOCAL, "Xong", expect="Xem lại báo cáo"))[-1].text
        assert review.count("QĐ-công-bố TTHC.pdf") == 1 and "bao-cao.pdf" in review
        assert "ban-sao.pdf" not in review
        # «Hoàn thành» with 80% against "trên 95%": asked to confirm
        assert "chưa đạt chỉ tiêu" in review and "Kiểm tra lại" in review
        await bot.press(FOCAL, "Bỏ tệp", expect="Bỏ tệp nào")
        review = (await bot.press(FOCAL, "bao-cao.pdf", expect="Xem lại báo cáo"))[-1].text
        assert "bao-cao.pdf" not in review and "QĐ-công-bố TTHC.pdf" in review
        sent = await bot.press(FOCAL, "Gửi", expect="Số biên nhận")
    receipt = "\n".join(c.text for c in sent if c.text)
    assert re.search(r"kèm 1 tệp", receipt), receipt
    # filed under the round due last that covers the task — the annual CCHC report (not the
    # 05/7 round, which asks for a document) — and late for it
    assert "Thuộc kỳ báo cáo: Báo cáo cải cách hành chính năm 2024" in receipt
    assert "nộp muộn (hạn của kỳ: 15/12/2024)" in receipt
    with Session(engine) as session:
        files = session.exec(select(EvidenceFile.file_name)).all()
    assert files == ["QĐ-công-bố TTHC.pdf"]
