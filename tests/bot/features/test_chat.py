"""/nhiemvu on the real PTB Application against the fake Bot API, on the demo data.

Each task carries the compiled report's own evaluation (quá hạn n ngày, còn hạn, hoàn thành),
overdue first, and its numbers agree with the whole plan's /tonghop.
"""

from __future__ import annotations

import re

from core.clock import FixedClock
from core.model import UserRole
from core.report_model import Scope, Verdict
from tests.bot.features.test_reports import USER, link
from tests.support import reports as report_support
from tests.support.chat import ChatBot
from tests.support.reports import AS_OF, NOW, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


async def test_tasks_show_the_evaluation_overdue_first_and_agree_with_the_report(
    demo_engine, fake_api
):
    whole = compiled(demo_engine, Scope(as_of=AS_OF))
    stp = next(a for a in whole.data.agencies.values() if a.code == "STP")
    late = next(item for item in whole.late_agencies if item.agency.code == "STP")
    pages = []
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot:
        await link(bot, demo_engine, USER, "STP", UserRole.FOCAL)
        sent = await bot.command(USER, "nhiemvu", expect="Nhiệm vụ của Sở Tư pháp")
        pages.append(sent[-1].text)
        while any("Sau" in b["text"] for b in bot.last_with_buttons(USER).buttons):
            sent = await bot.press(USER, "Sau")
            pages.append(sent[-1].text)
    text = "\n".join(pages)
    # NOW is the day after AS_OF: the list is judged as of 01/04/2025
    assert "tính đến ngày 01/04/2025" in pages[0]
    marks = re.findall(r"^   (⚠️ Quá hạn (\d+) ngày|✅|Còn|⏰|Chưa có hạn)", text, flags=re.M)
    assert marks, text
    kinds = [
        "overdue" if m[0].startswith("⚠️") else "done" if m[0] == "✅" else "open" for m in marks
    ]
    first_other = next((i for i, k in enumerate(kinds) if k != "overdue"), len(kinds))
    assert all(k != "overdue" for k in kinds[first_other:]), "overdue tasks come first"
    days = [int(m[1]) for m in marks if m[1]]
    assert days == sorted(days, reverse=True)
    # the same evaluation as the report: lead tasks overdue one day later
    later = compiled(demo_engine, Scope(as_of=NOW.date()))
    mine = [
        e
        for t in later.tasks
        for e in t.leads
        if e.agency_id == stp.id and e.verdict is Verdict.OVERDUE
    ]
    head = re.search(r"chủ trì (\d+), phối hợp (\d+)\), (\d+) quá hạn", pages[0])
    assert head is not None
    lead_overdue = sum(
        1
        for block in re.split(r"\n(?=• )", text)
        if "\n   Chủ trì ·" in block and "⚠️ Quá hạn" in block
    )
    assert lead_overdue == len(mine) >= late.overdue
    assert "đã báo cáo «" in text or "chưa báo cáo" in text


def test_the_agency_view_and_the_coordinator_view_agree_on_its_overdue_count(demo_engine):
    whole = compiled(demo_engine, Scope(as_of=AS_OF))
    own = compiled(demo_engine, Scope(as_of=AS_OF, agency_code="STP"))
    in_whole = next(item for item in whole.late_agencies if item.agency.code == "STP")
    assert own.late_agencies == [in_whole]
    assert own.task_tally.counts[Verdict.OVERDUE] == in_whole.overdue
    assert own.coordinated_tally.total > 0  # STP coordinates too, and that is counted apart
    from messages.reports.summary import summary_text

    text = summary_text(own)
    assert f"Sở Tư pháp chủ trì {own.task_tally.total} nhiệm vụ, phối hợp" in text
    assert "Lượt nhiệm vụ của cơ quan chủ trì" not in text


async def test_invite_takes_names_lists_ambiguities_and_names_the_roles_in_vietnamese(
    demo_engine, fake_api
):
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot:
        await link(bot, demo_engine, USER, "SNV", UserRole.COORDINATOR)
        usage = await bot.command(USER, "moi", expect="Bạn có thể mời các vai trò")
        words = usage[-1].text
        assert "đầu mối" in words and "lãnh đạo" in words
        for english in ("focal", "leader", "coordinator", "admin"):
            assert english not in words
        created = await bot.command(USER, "moi", "Sở Tư pháp đầu mối", expect="Mã mời")
        assert "Mã mời đầu mối cho Sở Tư pháp" in created[-1].text
        leader = await bot.command(USER, "moi", "tư pháp lãnh đạo", expect="Mã mời")
        assert "Mã mời lãnh đạo cho Sở Tư pháp" in leader[-1].text
        unclear = await bot.command(USER, "moi", "UBND tỉnh", expect="chưa chỉ rõ")
        assert "Văn phòng UBND tỉnh (mã VPUBND)" in unclear[-1].text
        assert "Mã mời" not in unclear[-1].text
