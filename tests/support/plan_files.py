"""Builds variants of the 2024 appendix (other column order, synonyms, formats) for tests."""

from __future__ import annotations

import csv
from pathlib import Path

import docx
import openpyxl

RENAMED = {
    "Số TT": "STT",
    "Nhiệm vụ cụ thể": "Nhiệm vụ",
    "Tiến độ": "Thời gian hoàn thành",
    "Cơ quan chủ trì": "Đơn vị chủ trì",
    "Cơ quan phối hợp": "Đơn vị phối hợp",
    "Kết quả/sản phẩm": "Sản phẩm",
}
ORDER = [1, 5, 0, 3, 4, 2]  # Nhiệm vụ, Sản phẩm, STT, chủ trì, phối hợp, tiến độ


def original_rows(seed_dir: Path) -> list[list[str]]:
    document = docx.Document(str(seed_dir / "phu-luc-ke-hoach-2024.docx"))
    return [[cell.text for cell in row.cells] for row in document.tables[0].rows]


def variant_rows(seed_dir: Path) -> list[list[str]]:
    """Columns reordered, headers renamed with synonyms, a "Ghi chú" column added."""
    rows = []
    for index, row in enumerate(original_rows(seed_dir)):
        cells = [row[i] for i in ORDER]
        if index == 0:
            cells = [RENAMED[c] for c in cells]
            cells.append("Ghi chú")
        else:
            cells.append(f"ghi chú dòng {index}")
        rows.append(cells)
    return rows


def write_docx(rows: list[list[str]], path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Phụ lục")
    unrelated = document.add_table(rows=1, cols=2)
    unrelated.rows[0].cells[0].text = "Nơi nhận"
    unrelated.rows[0].cells[1].text = "Sở Nội vụ"
    document.add_paragraph("CÁC NHIỆM VỤ, GIẢI PHÁP")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.rows[r].cells[c].text = text
    document.save(str(path))
    return path


def write_xlsx(rows: list[list[str]], path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Phụ lục: Các nhiệm vụ, giải pháp"])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(rows: list[list[str]], path: Path, delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path
