"""The plan's appendix from every format officials hold imports to the same tasks."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from core.plan_table import PlanFormatError
from storage.db import transaction
from storage.importers import read_plan
from storage.plans import PlanMeta, save_plan
from storage.tables.shared import Assignment, Task
from tests.support.plan_files import variant_rows, write_csv, write_docx, write_xlsx

FIELDS = ("area", "ref", "title", "schedule", "lead_text", "coordinating_text", "expected_output")


def as_tuples(draft):
    return [tuple(getattr(t, f) for f in FIELDS) for t in draft.tasks]


@pytest.fixture(scope="module")
def text_draft(seed_dir):
    return read_plan(seed_dir / "ke-hoach-cai-thien-par-index-2024.txt")


@pytest.fixture(scope="module")
def docx_draft(seed_dir):
    return read_plan(seed_dir / "phu-luc-ke-hoach-2024.docx")


def test_text_and_docx_give_the_same_leaf_tasks(text_draft, docx_draft):
    assert as_tuples(text_draft) == as_tuples(docx_draft)
    assert [a.code for a in text_draft.areas] == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
    # 69 leaf tasks: group rows ("1.", "2.2", …) are not tasks.
    assert len(text_draft.tasks) == 69
    refs = [t.ref for t in text_draft.tasks]
    assert len(set(refs)) == len(refs)
    assert "III.2.2" not in refs and "III.2.2.a" in refs and "I.4.a" in refs


def test_no_empty_title_and_no_html(text_draft, docx_draft):
    for draft in (text_draft, docx_draft):
        for task in draft.tasks:
            assert task.title
            for field in FIELDS:
                value = getattr(task, field)
                assert "<" not in value and ">" not in value, (task.ref, field, value)


def test_continuation_rows_are_merged(text_draft):
    tasks = {t.ref: t for t in text_draft.tasks}
    assert tasks["II.3"].title.endswith("xử lý nhiều văn bản trái pháp luật")
    assert tasks["IV.5.1"].schedule == "Trong năm 2024"
    assert tasks["VI.4"].title.endswith("so với năm 2021")
    assert tasks["III.1.b"].title.startswith("Có các kiến nghị cải cách TTHC")
    assert tasks["III.1.b"].coordinating_text == "Các Sở, ban, ngành, UBND cấp huyện"


def test_second_lead_row_is_kept(engine):
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.ref == "V.3")).one()
        assert "theo nhu cầu thực tế" in task.lead_text
        leads = session.exec(
            select(Assignment).where(Assignment.task_id == task.id, Assignment.role == "lead")
        ).all()
    annotations = {a.annotation for a in leads}
    assert "chủ trì, tham mưu UBND tỉnh tổ chức" in annotations
    assert "theo nhu cầu thực tế" in annotations
    assert len(leads) == 20 + 18  # Sở Nội vụ is one of the departments


def test_every_lead_cell_resolves(engine):
    with Session(engine) as session:
        tasks = session.exec(select(Task)).all()
        for task in tasks:
            leads = session.exec(
                select(Assignment).where(Assignment.task_id == task.id, Assignment.role == "lead")
            ).all()
            assert leads, task.ref


@pytest.mark.parametrize("writer", [write_docx, write_xlsx, write_csv])
def test_reordered_renamed_columns_with_extra_column(tmp_path, seed_dir, docx_draft, writer):
    suffix = {write_docx: ".docx", write_xlsx: ".xlsx", write_csv: ".csv"}[writer]
    path = writer(variant_rows(seed_dir), tmp_path / f"variant{suffix}")
    assert as_tuples(read_plan(path)) == as_tuples(docx_draft)


def test_semicolon_csv(tmp_path, seed_dir, docx_draft):
    path = write_csv(variant_rows(seed_dir), tmp_path / "variant.csv", delimiter=";")
    assert as_tuples(read_plan(path)) == as_tuples(docx_draft)


def test_reimport_updates_in_place(engine, seed_dir):
    with Session(engine) as session:
        before = {t.ref: t.id for t in session.exec(select(Task))}
    draft = read_plan(seed_dir / "phu-luc-ke-hoach-2024.docx")
    draft.tasks[0].title = "Tiêu đề đã sửa"
    with transaction(engine) as session:
        summary = save_plan(session, PlanMeta("PAR-2024", "Kế hoạch", 2024), draft)
    assert summary.created_tasks == 0 and summary.updated_tasks == 69
    with Session(engine) as session:
        after = {t.ref: t.id for t in session.exec(select(Task))}
        first = session.exec(select(Task).where(Task.ref == "I.1")).one()
    assert after == before
    assert first.title == "Tiêu đề đã sửa"


def test_lead_cell_naming_nobody_fails_and_names_the_row(engine, seed_dir):
    draft = read_plan(seed_dir / "ke-hoach-cai-thien-par-index-2024.txt")
    draft.tasks[3].lead_text = "Sở Du hành vũ trụ"
    with pytest.raises(PlanFormatError) as error, transaction(engine) as session:
        save_plan(session, PlanMeta("PAR-X", "X", 2024), draft)
    assert error.value.row == draft.tasks[3].source_row
    assert "I.4.a" in str(error.value)


def test_plan_show_json_shape(engine, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.setenv("PARBOT_DATABASE_URL", str(engine.url))
    result = CliRunner().invoke(app, ["plan", "show", "PAR-2024", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 69
    first = rows[0]
    assert set(first) == {
        "area",
        "ref",
        "title",
        "schedule",
        "deadline",
        "recurrence",
        "lead",
        "coordinating",
        "expected_output",
    }
    by_ref = {r["ref"]: r for r in rows}
    assert by_ref["I.1"]["deadline"] == "2024-12-31"
    assert by_ref["I.4.a"]["recurrence"] == "monthly" and by_ref["I.4.a"]["deadline"] is None
    assert by_ref["I.2"]["deadline"] is None and by_ref["I.2"]["lead"] == ["SNV"]
    assert by_ref["VIII.4"]["lead"] == ["STC", "SKHDT", "CTHUE"]
