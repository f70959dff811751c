"""The demo reports read like real ones: results fit their task, figures carry their target's
kind and unit, counts agree with each other, and seeding twice writes the same set."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from core.flows.targets import COUNT, PERCENT, primary_target, with_unit
from storage.db import transaction
from storage.demo import seed_demo
from storage.tables.shared import StatusReport, Task

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def demo_rows(engine) -> list[tuple]:
    with Session(engine) as session:
        query = (
            select(
                Task.ref,
                Task.expected_output,
                StatusReport.status,
                StatusReport.result,
                StatusReport.figure,
                StatusReport.receipt,
                StatusReport.submitted_at,
            )
            .join(Task, Task.id == StatusReport.task_id)
            .order_by(StatusReport.receipt)
        )
        return list(session.execute(query).all())


def test_demo_results_and_figures_are_plausible_and_seeding_again_changes_nothing(engine):
    with transaction(engine) as session:
        seed_demo(session, TZ)
    rows = demo_rows(engine)
    assert len(rows) > 1000
    with_figure = 0
    for ref, expected, status, result, figure, _receipt, _at in rows:
        assert "{" not in result and result.strip(), (ref, result)
        target = primary_target(expected or "")
        if figure is None:
            continue
        with_figure += 1
        # a figure only where the plan states a target, stored the way the chat stores it
        assert target is not None, (ref, figure)
        assert status != "not_started"
        if target.kind == PERCENT:
            assert re.fullmatch(r"\d{1,3}(,\d)?%", figure), (ref, figure)
            assert float(figure[:-1].replace(",", ".")) <= 100
        else:
            assert target.kind == COUNT and re.fullmatch(r"\d+", figure), (ref, figure)
            assert with_unit(target, figure) == f"{figure} {target.unit}"
        # the result then states no quantity of its own that could contradict the figure
        assert not re.search(r"\d+ (thủ tục|văn bản|lượt|hội nghị|lớp)", result), result
        # counts that depend on each other agree
    assert with_figure > 100
    for *_, result, _figure, _receipt, _at in rows:
        reviewed = re.search(r"rà soát (\d+) thủ tục .* đơn giản hóa (\d+) thủ tục", result)
        if reviewed:
            assert int(reviewed.group(2)) <= int(reviewed.group(1)), result
        meetings = re.search(r"(\d+) (?:hội nghị|lớp)\D* với (\d+) lượt", result)
        if meetings:
            assert int(meetings.group(2)) >= int(meetings.group(1)), result
    assert not any(r[2] == "done" and r[3].startswith("Chưa triển khai") for r in rows)

    with transaction(engine) as session:
        seed_demo(session, TZ)
    assert demo_rows(engine) == rows  # deterministic and idempotent


def test_a_short_done_figure_is_flagged_and_not_started_is_no_result(engine):
    from messages.reports.texts import task_results
    from tests.support.reports import AS_OF, compiled

    with transaction(engine) as session:
        seed_demo(session, TZ)
    report = compiled(engine)
    texts = [task_results(result, report.data) for result in report.tasks]
    joined = "\n".join(texts)
    assert "Chưa triển khai" not in joined  # a "not started" report states no result
    assert "(chưa đạt chỉ tiêu)" in joined and "Chỉ tiêu theo Kế hoạch: “" in joined
    for result, text in zip(report.tasks, texts, strict=True):
        target = primary_target(result.task.expected_output)
        if target is not None and target.kind == COUNT and "Số liệu đạt được:" in text:
            assert f" {target.unit}" in text.split("Số liệu đạt được:")[1].split("\n")[0]
    assert report.data.as_of == AS_OF
