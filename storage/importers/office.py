"""Office files (.docx, .xlsx) checked as zip archives before a parser opens them.

`core.archives.inspect_zip` reads only the central directory; a bomb (a member that inflates
past the limits) is refused here with a message that says so, before python-docx or openpyxl
inflate anything (see core/archives.py for why the declared sizes bound what they inflate).
"""

from __future__ import annotations

from pathlib import Path

from core.archives import OFFICE_LIMITS, ArchiveRefused, ZipLimits, inspect_zip


def check_office_file(path: Path, label: str, limits: ZipLimits = OFFICE_LIMITS) -> None:
    """Raise ImportFileError unless `path` is a zip within `limits`; `label` is "Word (.docx)"."""
    from storage.importers import ImportFileError

    try:
        inspect_zip(path, limits)
    except ArchiveRefused as exc:
        if exc.reason == "not_zip":
            raise ImportFileError(f"{path.name} không phải tệp {label} hợp lệ") from exc
        mb = limits.max_total // (1024 * 1024)
        detail = {
            "members": f"có quá nhiều thành phần nén ({exc.detail}; tối đa {limits.max_members})",
            "total": f"khi giải nén vượt {mb} MB",
            "ratio": f"có thành phần nén bất thường (tỉ lệ nén {exc.detail.rsplit(' ', 1)[-1]}:1)",
        }[exc.reason]
        raise ImportFileError(
            f"{path.name} bị từ chối: tệp {label} {detail}, có thể là “bom nén”. "
            f"Hãy lưu lại tệp bằng Word/Excel rồi nhập lại; dữ liệu chưa bị thay đổi."
        ) from exc
