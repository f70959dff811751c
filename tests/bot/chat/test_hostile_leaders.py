"""A leader sees what their seat covers: a commune leader their commune, a district leader the
district and its communes, the leaders of the bodies that direct the plan the whole province."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlmodel import Session, select

from core.clock import FixedClock
from core.model import UserRole
from core.report_model import Scope, scope_for
from messages.reports.build import compile_report
from messages.reports.summary import summary_text
from storage.reports.seats import seat_of
from storage.tables.shared import Agency
from tests.bot.features.test_reports import link, uploads
from tests.support import reports as report_support
from tests.support.chat import ChatBot
from tests.support.reports import NOW, TZ, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template

LEADER = 4343


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


DISTRICT, COMMUNE = "H-TAMKY", "X-20335"  # thành phố Tam Kỳ; UBND phường Tân Thạnh


def communes_of_the_district(engine) -> set[str]:
    """The seed gives every commune its district (storage/seed/quang-nam-2024/agencies.csv)."""
    with Session(engine) as session:
        district = session.exec(select(Agency).where(Agency.code == DISTRICT)).one()
        below = session.exec(select(Agency).where(Agency.parent_id == district.id)).all()
    codes = {a.code for a in below}
    assert COMMUNE in codes and len(codes) > 1
    return codes


async def leader_report(engine, api, agency: str) -> tuple[list, list[str]]:
    """What a leader of `agency` gets from /tonghop → "Đến hôm nay": the calls and the
    agencies of the workbook's matrix sheet."""
    async with ChatBot(api, engine, FixedClock(NOW)) as bot:
        await link(bot, engine, LEADER, agency, UserRole.LEADER)
        await bot.command(LEADER, "tonghop", expect="Báo cáo tổng hợp")
        call = bot.last_with_buttons(LEADER)
        [now] = [b for b in call.buttons if b["text"] == "Đến hôm nay"]
        update = api.make_button_press(LEADER, call.message_id, now["callback_data"])
        mark = api.mark()
        api.inject(update)
        await bot.processed(update, timeout=120)  # the whole province takes a while
        calls = [c for c in api.sent_messages(LEADER) if c.seq >= mark]
    book = openpyxl.load_workbook(io.BytesIO(uploads(calls)["xlsx"]))
    matrix = [row[0] for row in book["Ma trận"].iter_rows(min_row=2, values_only=True)]
    return calls, matrix


async def test_a_commune_leaders_tonghop_covers_only_that_commune(demo_engine, fake_api, data_dir):
    calls, matrix = await leader_report(demo_engine, fake_api, COMMUNE)
    assert matrix == [COMMUNE]
    expected = compiled(demo_engine, Scope(agency_code=COMMUNE))
    assert summary_text(expected) in [c.text for c in calls]


async def test_a_district_leader_sees_the_district_and_its_communes(
    demo_engine, fake_api, data_dir
):
    communes = communes_of_the_district(demo_engine)
    calls, matrix = await leader_report(demo_engine, fake_api, DISTRICT)
    assert set(matrix) == {DISTRICT, *communes}


async def test_the_plan_issuers_office_leader_sees_the_whole_plan(demo_engine, fake_api, data_dir):
    # Văn phòng UBND tỉnh: its alias names the plan's issuer (UBND tỉnh Quảng Nam)
    calls, matrix = await leader_report(demo_engine, fake_api, "VPUBND")
    whole = compiled(demo_engine, Scope())
    assert len(matrix) == len(whole.data.agencies) > 250
    assert summary_text(whole) in [c.text for c in calls]


async def test_a_department_leader_sees_only_the_department(demo_engine, fake_api, data_dir):
    calls, matrix = await leader_report(demo_engine, fake_api, "STP")
    assert matrix == ["STP"]


def test_seats_and_their_reach_are_read_the_same_on_both_databases(any_engine):
    communes = communes_of_the_district(any_engine)
    with Session(any_engine) as session:
        ids = {a.code: a.id for a in session.exec(select(Agency))}
        seats = {code: seat_of(session, ids[code], "SNV") for code in ("SNV", "VPUBND", DISTRICT)}
        assert seats["SNV"].directs_plan and seats["VPUBND"].directs_plan
        district = seats[DISTRICT]
        assert district.agency_code == DISTRICT and not district.directs_plan
        assert set(district.below) == communes
        scope = scope_for(UserRole.LEADER, seats[DISTRICT], Scope())
        report = compile_report(session, scope, TZ, NOW)
    assert {a.code for a in report.data.agencies.values()} <= {DISTRICT, *communes}
    assert DISTRICT in {a.code for a in report.data.agencies.values()}
    assert len(report.data.tasks) > 0
