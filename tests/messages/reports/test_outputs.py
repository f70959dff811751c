"""The compiled report's files, opened the way their readers open them.

openpyxl reads the workbook, python-docx the Word report, LibreOffice converts both to PDF
(skipped, with the reason shown, where it is not installed) and the first PDF page's text is
checked for the decree's header. The counts of the chat summary, the workbook, the Word report
and the JSON export must agree; compiling the same data twice must give the same content.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import unicodedata
import warnings
import zipfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Pt
from matplotlib.image import imread
from sqlalchemy import select, update
from sqlmodel import Session

from core.report_model import CompiledReport, Scope, Verdict
from messages.reports.build import Format, write_output
from messages.reports.json_export import report_dict
from messages.reports.labels import labels
from messages.reports.summary import markdown, summary_text
from storage.db import make_engine, transaction
from storage.reports.query import letterhead
from storage.tables.shared import Agency, EvidenceFile, Plan, Task
from tests.support import reports as report_support
from tests.support.reports import AS_OF, NOW, TZ, compiled

# fixtures shared by the report tests (a module attribute registers them here)
demo_template = report_support.demo_template
demo_engine = report_support.demo_engine


VERDICT_WORDS = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành quá hạn",
    "in_progress": "Đang thực hiện trong hạn",
    "overdue": "Quá hạn chưa hoàn thành",
    "not_reported": "Chưa báo cáo",
}
SUMMARY_HEADER = [
    "Số TT",
    "Nhiệm vụ",
    "Tiến độ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Kết quả/sản phẩm",
    "Tình hình thực hiện",
    "Kết quả đạt được",
    "Khó khăn vướng mắc",
    "Đánh giá",
]


class Built:
    def __init__(self, folder: Path, engine, report: CompiledReport) -> None:
        self.folder, self.engine, self.report = folder, engine, report
        self.paths: dict[str, Path] = {}


def build(engine, folder: Path, now: datetime = NOW, scope: Scope | None = None) -> Built:
    folder.mkdir(parents=True, exist_ok=True)
    with transaction(engine) as session:
        from messages.reports.build import compile_report

        report = compile_report(session, scope or Scope(as_of=AS_OF), TZ, now)
        head = letterhead(session, report.data.plan, "SNV")
        built = Built(folder, engine, report)
        for fmt in Format:
            built.paths[fmt.value] = write_output(
                fmt, report, folder / f"r.{fmt.value}", TZ, head, session
            )
    return built


@pytest.fixture(scope="module")
def built(demo_template, tmp_path_factory) -> Built:
    engine = make_engine(f"sqlite:///{demo_template}")
    yield build(engine, tmp_path_factory.mktemp("out"))
    engine.dispose()


@pytest.fixture(scope="module")
def workbook(built):
    return openpyxl.load_workbook(built.paths["xlsx"])


@pytest.fixture(scope="module")
def word(built):
    return Document(str(built.paths["docx"]))


def appendix_refs(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(Task.ref).order_by(Task.position)).scalars())


# -- the workbook
def test_workbook_sheets_rows_and_vietnamese_text(built, workbook):
    words = labels()
    # the plan's 05/7 round asks for a document: its own sheet lists who sent what
    assert workbook.sheetnames == ["Tổng hợp", "Thống kê", "Ma trận", "Báo cáo", "Văn bản theo kỳ"]
    sheet = workbook["Tổng hợp"]
    assert [c.value for c in sheet[4]] == SUMMARY_HEADER
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert [r[0] for r in rows] == appendix_refs(built.engine)  # one row per task, in order
    assert sheet["A1"].value.startswith("TỔNG HỢP KẾT QUẢ THỰC HIỆN KẾ HOẠCH CẢI THIỆN")
    assert sheet["A2"].value == "Tính đến ngày 31/03/2025."
    with Session(built.engine) as session:
        tasks = {t.ref: t for t in session.execute(select(Task)).scalars()}
    for row in rows:
        task = tasks[row[0]]
        assert (row[1], row[2], row[3], row[5]) == (
            task.title,
            task.schedule,
            task.lead_text,
            task.expected_output or None,
        )
        assert row[9] in VERDICT_WORDS.values()
    counted = Counter(r[9] for r in rows)
    assert counted == Counter(
        {VERDICT_WORDS[v.value]: n for v, n in built.report.task_tally.counts.items() if n}
    )
    assert len(counted) >= 3  # the demo has a real mix, not one word everywhere
    # frozen header, filter, widths, wrapped text, colour of the verdict
    assert sheet.freeze_panes == "B5"
    assert sheet.auto_filter.ref == f"A4:J{4 + len(rows)}"
    assert sheet.column_dimensions["B"].width == pytest.approx(40)
    assert sheet["B5"].alignment.wrap_text
    assert sheet["J5"].fill.fgColor.rgb in {
        "FFC6EFCE",
        "FFE2F0D9",
        "FFFFEB9C",
        "FFFFC7CE",
        "FFE7E6E6",
    }
    assert sheet["A5"].font.name == "Times New Roman"
    assert words.verdict["overdue"] == "Quá hạn chưa hoàn thành"


def test_workbook_matrix_and_reports_sheets(built, workbook):
    report = built.report
    matrix = workbook["Ma trận"]
    header = [c.value for c in matrix[1]]
    assert header[:3] == ["Mã cơ quan", "Cơ quan", "Loại cơ quan"]
    assert header[3:] == appendix_refs(built.engine)
    assert matrix.max_row - 1 == len(report.data.agencies)
    assert matrix.freeze_panes == "D2" and matrix.auto_filter.ref.startswith("A1:")
    codes = {"HT": 0, "HT-QH": 0, "ĐTH": 0, "QH": 0, "CBC": 0}
    for row in matrix.iter_rows(min_row=2, min_col=4, values_only=True):
        for value in row:
            if value in codes:
                codes[value] += 1
    tally = report.agency_tally.counts
    lead_only = sum(len(r.leads) for r in report.tasks)
    assert sum(codes.values()) == lead_only  # coordinators are marked "(PH)", not counted
    assert codes["QH"] <= tally[Verdict.OVERDUE]

    sheet = workbook["Báo cáo"]
    assert [c.value for c in sheet[1]][:3] == ["Số TT", "Mã cơ quan", "Cơ quan"]
    assert sheet.max_row - 1 == len(report.data.reports)
    second = [c.value for c in sheet[2]]
    assert isinstance(second[12], datetime)  # a real date, not text
    assert sheet.cell(2, 13).number_format == "dd/mm/yyyy hh:mm"
    with Session(built.engine) as session:
        names = set(session.execute(select(EvidenceFile.file_name)).scalars())
    listed = [v for v in (r[13] for r in sheet.iter_rows(min_row=2, values_only=True)) if v]
    assert listed and all(name in names for cell in listed for name in cell.split("; "))
    latest = sum(1 for r in sheet.iter_rows(min_row=2, values_only=True) if r[6] == "Có")
    assert latest == sum(r.reports for r in report.tasks)


def test_workbook_prints_on_a4_landscape_fitted_to_width_with_repeated_headers(workbook):
    titles = {"Tổng hợp": "$4:$4", "Ma trận": "$A:$C,$1:$1", "Báo cáo": "$1:$1"}
    for name in workbook.sheetnames:
        sheet = workbook[name]
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9), name
        assert sheet.oddFooter.center.text == "Trang &P/&N", name
        if name == "Ma trận":  # one column per task: no page is that wide, columns repeat
            assert not sheet.sheet_properties.pageSetUpPr or not (
                sheet.sheet_properties.pageSetUpPr.fitToPage
            )
        else:
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
            assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), name  # height left free
        if name in titles:
            printed = ",".join(
                str(part).split("!")[-1]
                for part in (sheet.print_title_cols, sheet.print_title_rows)
                if part
            )
            assert printed == titles[name], name


def test_workbook_stores_figures_as_numbers_and_speaks_only_vietnamese(built, workbook):
    sheet = workbook["Báo cáo"]
    header = [c.value for c in sheet[1]]
    assert header[9] == "Số liệu" and header[14] == "Số biên nhận"  # the chat's word
    figures = [row[9] for row in sheet.iter_rows(min_row=2) if row[9].value is not None]
    assert figures and all(isinstance(c.value, int | float) for c in figures)
    percent = [c for c in figures if "%" in c.number_format]
    assert percent and all(0 <= c.value <= 1 for c in percent)
    stats = [v for row in workbook["Thống kê"].iter_rows(values_only=True) for v in row if v]
    words = {w.lower() for text in stats if isinstance(text, str) for w in re.findall(r"\w+", text)}
    assert not words & {"sheet", "matrix", "summary", "reports", "stats", "legend"}


# -- the Word report
def test_word_report_follows_decree_30(built, word):
    first = word.sections[0]
    assert (round(first.page_width.mm), round(first.page_height.mm)) == (210, 297)
    assert round(first.top_margin.mm) == 20 and round(first.bottom_margin.mm) == 20
    assert round(first.left_margin.mm) == 30 and round(first.right_margin.mm) == 15
    assert word.styles["Normal"].font.name == "Times New Roman"
    assert word.styles["Normal"].font.size == Pt(14)
    header = word.tables[0]
    left = [p.text for p in header.cell(0, 0).paragraphs if p.text]
    right = [p.text for p in header.cell(0, 1).paragraphs if p.text]
    assert left == ["UBND TỈNH QUẢNG NAM", "SỞ NỘI VỤ"]
    assert right == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert header.cell(0, 0).paragraphs[1].runs[0].bold
    assert all(p.runs[0].bold for p in header.cell(0, 1).paragraphs if p.text)
    assert header.cell(1, 0).text == "Số: …/BC-SNV"
    place_date = header.cell(1, 1).paragraphs[0]
    # the document's date is the day it is made (NOW, in Hà Nội); 1 April → "tháng 4"
    assert place_date.text == "Quảng Nam, ngày 01 tháng 4 năm 2025"
    assert place_date.runs[0].italic
    borders = header._tbl.tblPr.xml
    assert 'w:val="nil"' in borders  # borderless
    texts = [p.text for p in word.paragraphs]
    title = texts.index("BÁO CÁO")
    assert texts[title + 1] == (
        "Kết quả thực hiện Kế hoạch cải thiện Chỉ số cải cách hành chính năm 2024"
    )
    assert all(r.bold for r in word.paragraphs[title + 1].runs)
    for paragraph in word.paragraphs:
        for run in paragraph.runs:
            if run.text.strip():
                assert run.font.name == "Times New Roman"
                assert run.font.size in (Pt(13), Pt(14)), run.text
    areas = built.report.areas
    headings = [t for t in texts if re.match(r"^\d+\. .+ \(lĩnh vực [IVX]+\)$", t)]
    assert len(headings) == len(areas)
    assert "Nơi nhận:" in word.tables[-2].cell(0, 0).text
    assert "GIÁM ĐỐC" in word.tables[-2].cell(0, 1).text
    assert "- Lưu: VT, SNV." in word.tables[-2].cell(0, 0).text
    # no signer configured: a dotted line to write the name on, not an empty paragraph
    signature = [p.text for p in word.tables[-2].cell(0, 1).paragraphs if p.text]
    assert signature == ["GIÁM ĐỐC", "……………………………"]


def test_word_report_opens_with_the_plan_number_and_date_and_a_rule_under_the_title(word):
    texts = [p.text for p in word.paragraphs]
    title = texts.index("BÁO CÁO")
    assert texts[title + 2] == "(Tính đến ngày 31/03/2025)"
    rule = word.paragraphs[title + 3]
    assert rule.text == "" and 'w:bottom w:val="single"' in rule._p.pPr.xml
    # the seeded plan's number is blank in its source text: a "…" for the clerk to fill
    opening = next(t for t in texts if t.startswith("Thực hiện "))
    assert opening.startswith(
        "Thực hiện Kế hoạch số …/KH-UBND ngày 26/06/2024 của UBND tỉnh Quảng Nam về cải thiện "
        "Chỉ số cải cách hành chính tỉnh Quảng Nam năm 2024, Sở Nội vụ tổng hợp kết quả"
    )
    assert "tính đến ngày 31/03/2025" in opening


def test_word_report_says_things_once_and_keeps_units_with_figures(word):
    texts = [p.text for p in word.paragraphs]
    texts += [c.text for t in word.tables for c in t._cells]
    joined = "\n".join(texts)
    # "Hoàn thành (báo cáo ngày 02/11/2024), hoàn thành ngày 02/11/2024." never again
    assert not re.search(r"báo cáo ngày (\S+)\), hoàn thành ngày \1", joined)
    assert "Hoàn thành ngày " in joined
    # no bare figure tacked after a sentence ("… ngày 12/03/2024. (28 thủ tục)", "(2)")
    assert not re.search(r"\.\s*\(\d+[^)]*\)", joined)
    assert not re.search(r"[^\s(]\s\(\d+\)", joined)
    figures = re.findall(r"Số liệu đạt được: ([^.;\n(]+)", joined)
    assert figures and all(re.fullmatch(r"\d+(,\d+)?%|\d+ \D+", f.strip()) for f in figures)
    assert "Kết quả nổi bật" not in joined
    under_results, inside = [], False
    for text in (p.text for p in word.paragraphs):
        if text == "Kết quả đạt được:":
            inside = True
        elif text.startswith(("Khó khăn", "- Nhiệm vụ ")) or re.match(r"^[IVX\d]+\. ", text):
            inside = False
        elif inside:
            under_results.append(text)
    assert under_results and not any("Chưa triển khai" in t for t in under_results)


def test_word_report_is_vietnamese_and_its_properties_name_the_issuer_and_date(word):
    styles = word.styles.element
    langs = styles.findall(".//" + qn("w:lang"))
    assert langs and all(lang.get(qn("w:val")) == "vi-VN" for lang in langs)
    for paragraph in word.paragraphs:
        for run in paragraph.runs:
            if run.text.strip():
                assert run._r.rPr.find(qn("w:lang")).get(qn("w:val")) == "vi-VN", run.text
    core = word.core_properties
    assert core.author == "Sở Nội vụ" and core.last_modified_by == "Sở Nội vụ"
    assert core.title.startswith("Báo cáo Kết quả thực hiện Kế hoạch cải thiện")
    assert core.language == "vi-VN"
    assert core.created == core.modified == NOW


def test_word_report_cites_the_plan_number_and_prints_the_configured_signer(
    demo_engine, tmp_path
):
    with transaction(demo_engine) as session:
        session.execute(update(Plan).values(number="1234"))
    with transaction(demo_engine) as session:
        from messages.reports.build import compile_report

        report = compile_report(session, Scope(area_code="I", as_of=AS_OF), TZ, NOW)
        head = letterhead(
            session,
            report.data.plan,
            "SNV",
            signer_name="Nguyễn Văn An",
            signer_title="KT. GIÁM ĐỐC|Phó Giám đốc",
        )
        path = write_output(Format.DOCX, report, tmp_path / "r.docx", TZ, head)
    word = Document(str(path))
    opening = next(p.text for p in word.paragraphs if p.text.startswith("Thực hiện "))
    assert opening.startswith("Thực hiện Kế hoạch số 1234/KH-UBND ngày 26/06/2024 của UBND tỉnh")
    signature = [p.text for p in word.tables[-2].cell(0, 1).paragraphs if p.text]
    assert signature == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn An"]


def test_word_appendix_and_counts_table(built, word):
    report = built.report
    appendix = word.tables[-1]
    assert word.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    assert round(word.sections[-1].page_width.mm) == 297
    assert [c.text for c in appendix.rows[0].cells] == [
        "Số TT",
        "Nhiệm vụ",
        "Tiến độ",
        "Cơ quan chủ trì",
        "Tình hình thực hiện",
        "Kết quả đạt được",
        "Đánh giá",
    ]
    assert len(appendix.rows) == 1 + len(report.areas) + len(report.tasks)
    task_rows = [
        r for r in appendix.rows[1:] if r.cells[0].text not in {a.area.code for a in report.areas}
    ]
    assert [r.cells[0].text for r in task_rows] == appendix_refs(built.engine)
    assert [r.cells[6].text for r in task_rows] == [
        VERDICT_WORDS[t.verdict.value] for t in report.tasks
    ]
    assert appendix.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # repeated on every page


def docx_counts(word) -> dict[str, list[int]]:
    table = next(t for t in word.tables if t.rows[0].cells[0].text == "Lĩnh vực")
    return {row.cells[0].text: [int(c.text) for c in row.cells[1:]] for row in table.rows[1:]}


def xlsx_counts(workbook) -> dict[str, list[int]]:
    rows = list(workbook["Tổng hợp"].iter_rows(min_row=5, values_only=True))
    by_area: dict[str, Counter[str]] = {}
    for row in rows:
        by_area.setdefault(row[0].split(".")[0], Counter())[row[9]] += 1
    order = list(VERDICT_WORDS.values())
    counts = {area: [sum(c.values())] + [c[w] for w in order] for area, c in by_area.items()}
    counts["Tổng cộng"] = [sum(v[i] for v in counts.values()) for i in range(6)]
    return counts


def summary_counts(text: str) -> dict[str, list[int]]:
    pattern = re.compile(
        r"^([IVX]+)\. .*?: (\d+) nhiệm vụ — hoàn thành (\d+) \(đúng hạn (\d+), quá hạn (\d+)\), "
        r"đang thực hiện (\d+), chưa báo cáo (\d+), quá hạn (\d+)\.$",
        re.M,
    )
    found = {}
    for m in pattern.finditer(text):
        total, _done, on_time, late, progress, silent, overdue = map(int, m.groups()[1:])
        found[m.group(1)] = [total, on_time, late, progress, overdue, silent]
    head = re.search(
        r"^Nhiệm vụ: (\d+) — hoàn thành (\d+) \(đúng hạn (\d+), quá hạn (\d+)\), đang thực hiện "
        r"(\d+), chưa báo cáo (\d+), quá hạn (\d+)\.$",
        text,
        re.M,
    )
    assert head is not None
    total, _done, on_time, late, progress, silent, overdue = map(int, head.groups())
    found["Tổng cộng"] = [total, on_time, late, progress, overdue, silent]
    return found


def json_counts(payload: dict) -> dict[str, list[int]]:
    order = list(VERDICT_WORDS)
    counts: dict[str, list[int]] = {}
    for task in payload["tasks"]:
        row = counts.setdefault(task["area"], [0] * 6)
        row[0] += 1
        row[1 + order.index(task["verdict"])] += 1
    counts["Tổng cộng"] = [payload["totals"]["tasks"]["total"]] + [
        payload["totals"]["tasks"][k] for k in order
    ]
    return counts


def test_counts_agree_across_chat_workbook_word_and_json(built, workbook, word):
    from_chat = summary_counts(summary_text(built.report))
    from_xlsx = xlsx_counts(workbook)
    from_docx = docx_counts(word)
    payload = json.loads(built.paths["json"].read_text(encoding="utf-8"))
    from_json = json_counts(payload)
    assert from_chat == from_xlsx == from_docx == from_json
    assert from_chat["Tổng cộng"][0] == len(appendix_refs(built.engine))
    # the "Thống kê" sheet's first table says the same
    stats = list(workbook["Thống kê"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(stats) if r[0] == "Lĩnh vực")
    table = {}
    for row in stats[start + 1 :]:
        table[row[0]] = list(row[2:8])
        if row[0] == "Tổng cộng":
            break
    assert table == from_xlsx
    # per task in JSON: status counts over lead agencies, reports = agencies that reported
    for task, result in zip(payload["tasks"], built.report.tasks, strict=True):
        assert task["ref"] == result.task.ref
        assert sum(task["status"].values()) == len(result.leads or result.coordinators)
        assert task["reports"] == sum(
            1 for e in result.leads + result.coordinators if e.report is not None
        )


# -- chart, bundle, markdown
def test_chart_is_a_png_with_every_vietnamese_glyph(built):
    image = imread(str(built.paths["png"]))
    assert image.shape[0] > 400 and image.shape[1] > 800
    from messages.reports.chart import write_chart

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        write_chart(built.report, built.folder / "again.png")


def test_chart_is_titled_with_the_plan_name_and_keeps_area_names_whole(built):
    from messages.reports.chart import area_labels, chart_title

    report = built.report
    title = chart_title(report)
    assert " ".join(title.split()).startswith(
        "Tiến độ thực hiện Kế hoạch cải thiện Chỉ số cải cách hành chính tỉnh Quảng Nam năm 2024"
    )
    assert report.data.plan.code not in title and "Tính đến ngày 31/03/2025" in title
    for label, area in zip(area_labels(report), report.areas, strict=True):
        assert " ".join(label.split()) == f"{area.area.code}. {area.area.title}"
        assert "…" not in label
    assert any("\n" in label for label in area_labels(report))  # long names wrap


def test_bundle_holds_every_evidence_file_by_task_and_agency(built):
    with Session(built.engine) as session:
        agencies = {a.code: a.name for a in session.execute(select(Agency)).scalars()}
    with zipfile.ZipFile(built.paths["zip"]) as bundle:
        names = bundle.namelist()
        manifest = bundle.read("danh-muc-tai-lieu-kiem-chung.csv").decode("utf-8-sig")
        files = [n for n in names if n != "danh-muc-tai-lieu-kiem-chung.csv"]
        for name in files:
            ref, folder, _file = name.split("/")
            code, agency = folder.split(" - ", 1)
            assert agencies[code] == agency and ref in appendix_refs(built.engine)
            assert unicodedata.is_normalized("NFC", name)
        sample = bundle.read(files[0])
    assert manifest.splitlines()[0].startswith("Nhiệm vụ,Mã cơ quan,Cơ quan,Lần báo cáo")
    assert len(manifest.splitlines()) == len(files) + 1
    expected = {hashlib.sha256(sample).hexdigest()}
    with Session(built.engine) as session:
        hashes = set(session.execute(select(EvidenceFile.sha256)).scalars())
    assert expected <= hashes
    in_scope = {
        (r.task_id, r.agency_id, e.file_name) for r in built.report.data.reports for e in r.evidence
    }
    assert len(files) <= sum(len(r.evidence) for r in built.report.data.reports)
    assert len(files) >= len(in_scope)


def test_markdown_lists_every_task(built):
    text = built.paths["md"].read_text(encoding="utf-8")
    assert text == markdown(built.report) + "\n"
    for ref in appendix_refs(built.engine):
        assert f"\n| {ref} |" in text


# -- same data, same content
def test_same_data_gives_the_same_content(built, tmp_path):
    scope = Scope(area_code="III", as_of=AS_OF)  # a third of the plan keeps this test quick
    built = build(built.engine, tmp_path / "first", now=NOW, scope=scope)
    again = build(built.engine, tmp_path / "again", now=NOW + timedelta(hours=5), scope=scope)
    first = openpyxl.load_workbook(built.paths["xlsx"])
    second = openpyxl.load_workbook(again.paths["xlsx"])
    for name in first.sheetnames:
        assert list(first[name].values) == list(second[name].values), name
    text_a = [p.text for p in Document(str(built.paths["docx"])).paragraphs]
    text_b = [p.text for p in Document(str(again.paths["docx"])).paragraphs]
    assert text_a == text_b
    cells_a = [c.text for t in Document(str(built.paths["docx"])).tables for c in t._cells]
    cells_b = [c.text for t in Document(str(again.paths["docx"])).tables for c in t._cells]
    assert cells_a == cells_b
    json_a = report_dict(built.report)
    json_b = report_dict(again.report)
    assert json_a.pop("generated_at") != json_b.pop("generated_at")
    assert json_a == json_b
    for fmt in ("zip", "md", "png"):
        assert built.paths[fmt].read_bytes() == again.paths[fmt].read_bytes(), fmt


# -- LibreOffice
def _office() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if not found:
        pytest.skip(
            "LibreOffice is not installed (apt-get install libreoffice-writer-nogui "
            "libreoffice-calc-nogui): the PDF conversion check is skipped"
        )
    return found


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_libreoffice_converts_to_pdf(built, tmp_path, fmt):
    office = _office()
    source = built.paths[fmt]
    if fmt == "xlsx":
        # every sheet kind, on fewer rows: converting 4,000 report rows takes LibreOffice ~15 s
        small = compiled(built.engine, Scope(area_code="I", agency_kind="department", as_of=AS_OF))
        (tmp_path / "src").mkdir()
        source = write_output(Format.XLSX, small, tmp_path / "src" / "r.xlsx", TZ)
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / "r.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed: the PDF's first page is not read")
    page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if fmt == "docx":
        for line in (
            "UBND TỈNH QUẢNG NAM",
            "SỞ NỘI VỤ",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "BÁO CÁO",
            "Kết quả thực hiện Kế hoạch cải thiện Chỉ số cải cách hành chính năm 2024",
        ):
            assert line in page
    else:
        assert "TỔNG HỢP KẾT QUẢ THỰC HIỆN" in page and "Đánh giá" in page
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "50",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                str(pdf),
                str(tmp_path / "page"),
            ],
            check=True,
            capture_output=True,
        )
        png = next(tmp_path.glob("page*.png"))
        assert imread(str(png)).shape[0] > 100


def test_streaming_writer_escapes_markup_drops_illegal_characters_and_keeps_types(tmp_path):
    from datetime import date as day

    from messages.reports.xlsx_stream import MAX_CELL_CHARS, Style, XlsxStream

    path = tmp_path / "w.xlsx"
    long_text = "ả" * (MAX_CELL_CHARS + 10)
    with XlsxStream(path) as book, book.sheet("A & <B>", (10, 10), freeze=(1, 0)) as sheet:
        sheet.row(["Cột 1", "Cột 2"], Style.HEADER)
        sheet.row(["a & b <c>", "x\x01y\nz", "", None, 5, 2.5, True, day(2024, 12, 31)])
        sheet.row([long_text, datetime(2025, 1, 2, 8, 30)])
        sheet.auto_filter(1, 2)
    book_ = openpyxl.load_workbook(path)
    ws = book_["A & <B>"]
    assert [c.value for c in ws[2]] == [
        "a & b <c>",
        "xy\nz",
        None,
        None,
        5,
        2.5,
        True,
        datetime(2024, 12, 31),
    ]
    assert ws["H2"].number_format == "dd/mm/yyyy"
    assert len(ws["A3"].value) == MAX_CELL_CHARS and ws["A3"].value.endswith("…")
    assert ws["B3"].value == datetime(2025, 1, 2, 8, 30)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:B3"
