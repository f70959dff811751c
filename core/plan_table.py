"""The appendix table of a plan → areas and leaf tasks.

Every importer (text, Word, Excel, CSV) reduces its file to rows of cells and hands them here,
so the rules for reading a real appendix live in one place:

- columns are found by header text, with synonyms, never by position; extra columns are ignored;
- the header row repeats after each page break, sometimes followed by a blank row;
- a row cut by a page break continues as a row with an empty "Số TT"; its cells are appended
  to the row before the break;
- section rows (I … VIII) open an area; numbered rows with no schedule and no agency are groups
  (Word repeats a merged group cell's text across the row); the same group row repeated after a
  page break is ignored;
- an unnumbered row with its own schedule is a task of its own and gets a generated ref under
  its group ("III.2.2.a"); an unnumbered row with only agencies adds a second lead row to the
  task above (V.3 of the 2024 plan).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.model import AreaDraft, PlanDraft, TaskDraft
from core.text import clean, fold

FIELDS = ("ref", "title", "schedule", "lead", "coordinating", "output")
REQUIRED = ("ref", "title", "schedule", "lead")
LABELS = {
    "ref": "Số TT",
    "title": "Nhiệm vụ",
    "schedule": "Tiến độ",
    "lead": "Cơ quan chủ trì",
    "coordinating": "Cơ quan phối hợp",
    "output": "Kết quả/sản phẩm",
}
# Folded header texts. Exact matches first; then a prefix match for decorated headers.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ref": ("so tt", "stt", "tt", "so thu tu"),
    "title": (
        "nhiem vu cu the",
        "nhiem vu",
        "nhiem vu, giai phap",
        "ten nhiem vu",
        "noi dung",
        "noi dung nhiem vu",
    ),
    "schedule": ("tien do", "thoi gian hoan thanh", "thoi han", "thoi gian thuc hien", "han"),
    "lead": ("co quan chu tri", "don vi chu tri", "chu tri", "co quan, don vi chu tri"),
    "coordinating": ("co quan phoi hop", "don vi phoi hop", "phoi hop", "co quan, don vi phoi hop"),
    "output": (
        "ket qua/san pham",
        "ket qua / san pham",
        "san pham",
        "ket qua",
        "ket qua, san pham",
        "san pham dau ra",
        "ket qua du kien",
    ),
}
_ROMAN = re.compile(r"^(?=[IVX])X{0,3}(IX|IV|V?I{0,3})$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)*$")


class PlanFormatError(ValueError):
    """The file is not a plan appendix we can read; `row` says where (1-based), if known."""

    def __init__(self, message: str, row: int | None = None) -> None:
        self.row = row
        super().__init__(f"dòng {row}: {message}" if row else message)


def map_header(cells: Sequence[str | None]) -> dict[str, int] | None:
    """Column index of each field when `cells` is a header row, else None."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = fold(cell or "").strip(" :.")
        if not key or len(key) > 60:
            continue
        for name, synonyms in SYNONYMS.items():
            if name not in found and key in synonyms:
                found[name] = index
                break
    if "ref" in found and "title" in found and len(found) >= 3:
        return found
    return None


def missing_columns(header: dict[str, int]) -> list[str]:
    return [LABELS[name] for name in REQUIRED if name not in header]


@dataclass
class _Row:
    number: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        return self.cells.get(name, "")


@dataclass
class _State:
    draft: PlanDraft = field(default_factory=PlanDraft)
    area: str | None = None
    group_ref: str | None = None
    group_title: str | None = None
    group_number: str | None = None
    after_break: bool = False
    letters: dict[str, int] = field(default_factory=dict)
    last: TaskDraft | None = None


def _join(first: str, more: str) -> str:
    if not more:
        return first
    if not first:
        return more
    return f"{first} {more}"


def _append(task: TaskDraft, row: _Row, fields: Iterable[str]) -> None:
    attrs = {
        "title": "title",
        "schedule": "schedule",
        "lead": "lead_text",
        "coordinating": "coordinating_text",
        "output": "expected_output",
    }
    for name in fields:
        attr = attrs[name]
        setattr(task, attr, _join(getattr(task, attr), row.get(name)))


def _starts_lower(text: str) -> bool:
    return bool(text) and text[0].islower()


def _is_continuation(state: _State, row: _Row) -> bool:
    """An unnumbered row just after a page break that finishes the task before the break."""
    if state.last is None:
        return False
    if not row.get("schedule") or not state.last.title:
        return True
    return _starts_lower(row.get("title")) or _starts_lower(row.get("schedule"))


def parse_rows(rows: Iterable[tuple[int, Sequence[str | None]]]) -> PlanDraft:
    """Read the appendix from (row number, cells) pairs; the header may be anywhere."""
    header: dict[str, int] | None = None
    state = _State()
    for number, raw_cells in rows:
        mapped = map_header(raw_cells)
        if mapped is not None:
            if header is None:
                missing = missing_columns(mapped)
                if missing:
                    raise PlanFormatError("thiếu cột bắt buộc: " + ", ".join(missing), number)
                header = mapped
            else:
                state.after_break = True
            continue
        if header is None:
            continue
        cells = {
            name: clean(raw_cells[idx]) if idx < len(raw_cells) else ""
            for name, idx in header.items()
        }
        row = _Row(number, cells)
        if not any(cells.values()):
            continue
        _consume(state, row)
        state.after_break = False
    if header is None:
        raise PlanFormatError(
            "không tìm thấy bảng nhiệm vụ (cần dòng tiêu đề có các cột "
            + ", ".join(LABELS[n] for n in REQUIRED)
            + ")"
        )
    for task in state.draft.tasks:
        if not task.title:
            raise PlanFormatError(f"nhiệm vụ {task.ref} không có nội dung", task.source_row)
        if not task.lead_text:
            raise PlanFormatError(f"nhiệm vụ {task.ref} không có cơ quan chủ trì", task.source_row)
    return state.draft


def _is_group(row: _Row) -> bool:
    """Group rows carry no schedule and no agency; Word repeats their merged title."""
    title = row.get("title")
    others = [row.get(n) for n in ("schedule", "lead", "coordinating")]
    return all(not v or v == title for v in others)


def _consume(state: _State, row: _Row) -> None:
    ref = row.get("ref").rstrip(".").strip()
    if _ROMAN.match(ref):
        state.area = ref
        state.draft.areas.append(AreaDraft(ref, row.get("title")))
        state.group_ref = state.group_title = state.group_number = None
        state.last = None
        return
    if state.area is None:
        raise PlanFormatError("nhiệm vụ nằm trước mục lĩnh vực (I, II, …)", row.number)
    if not ref:
        _consume_unnumbered(state, row)
        return
    if not _NUMBER.match(ref):
        raise PlanFormatError(f"số thứ tự không hợp lệ: {ref!r}", row.number)
    if _is_group(row):
        group_ref = f"{state.area}.{ref}"
        if group_ref == state.group_ref and row.get("title") == state.group_title:
            return  # the same group row repeated after a page break
        state.group_ref, state.group_title, state.group_number = group_ref, row.get("title"), ref
        state.last = None
        return
    if state.group_number and not ref.startswith(state.group_number + "."):
        state.group_ref = state.group_title = state.group_number = None
    _add_task(state, row, f"{state.area}.{ref}")


def _consume_unnumbered(state: _State, row: _Row) -> None:
    if state.after_break and _is_continuation(state, row):
        assert state.last is not None
        _append(state.last, row, ("title", "schedule", "lead", "coordinating", "output"))
        return
    if row.get("title") or row.get("schedule"):
        parent = state.group_ref or (state.last.ref if state.last else state.area)
        assert parent is not None
        count = state.letters.get(parent, 0)
        state.letters[parent] = count + 1
        _add_task(state, row, f"{parent}.{_letter(count)}")
        return
    if state.last is None:
        raise PlanFormatError("dòng không thuộc nhiệm vụ nào", row.number)
    # A second lead row of the same task: agencies (and output) add to the task above.
    _append(state.last, row, ("lead", "coordinating", "output"))


def _letter(index: int) -> str:
    letters = string.ascii_lowercase
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


def _add_task(state: _State, row: _Row, ref: str) -> None:
    assert state.area is not None
    if any(t.ref == ref for t in state.draft.tasks[-50:]):
        raise PlanFormatError(f"số thứ tự bị trùng: {ref}", row.number)
    task = TaskDraft(
        area=state.area,
        ref=ref,
        title=row.get("title"),
        schedule=row.get("schedule"),
        lead_text=row.get("lead"),
        coordinating_text=row.get("coordinating"),
        expected_output=row.get("output"),
        source_row=row.number,
        group_ref=state.group_ref,
        group_title=state.group_title,
    )
    state.draft.tasks.append(task)
    state.last = task
