"""Lead and coordinating cells → concrete agencies.

A cell is prose: "Sở Nội vụ chủ trì xây dựng báo cáo", "- Sở Nội vụ - Ban Biên tập …",
"Các Sở, ban, ngành, UBND cấp huyện; đơn vị sự nghiệp công lập". We cut it into segments at
bullets and semicolons, then read each segment left to right: a known name, alias or group
phrase is taken (longest first); the first stretch that is not a name ends the list of agencies
and becomes the annotation of those agencies ("chủ trì xây dựng báo cáo"). A segment that
starts with no known name is reported as unresolved — listed, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.model import AgencyKind, AgencyRef, CellResolution
from core.text import clean, fold

_SEGMENT_SPLIT = re.compile(r"(?:^|\s)[-–•+]\s*(?=\S)|;|\n|\.\s+(?=[-–•A-ZÀ-Ỹ])")
_SKIP = re.compile(r"(?:[\s,.:/&]+|va\s+|cac\s+|(?:-|–)\s*)+")
_WORD_END = re.compile(r"(?=$|[^0-9a-z])")


@dataclass(frozen=True)
class AgencyEntry:
    """What the resolver needs to know of one agency."""

    code: str
    name: str
    kind: AgencyKind
    aliases: tuple[str, ...] = ()
    active: bool = True


@dataclass
class AgencyDirectory:
    """Names, aliases and group phrases of one province, folded for matching."""

    agencies: list[AgencyEntry]
    groups: dict[str, tuple[AgencyKind, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._phrases: dict[str, tuple[str, ...]] = {}
        by_kind: dict[AgencyKind, list[str]] = {}
        for agency in self.agencies:
            if not agency.active:
                continue
            by_kind.setdefault(agency.kind, []).append(agency.code)
            for name in (agency.name, *agency.aliases):
                key = fold(name)
                if key:
                    self._phrases[key] = (agency.code,)
        for phrase, kinds in self.groups.items():
            codes = tuple(code for kind in kinds for code in by_kind.get(kind, []))
            self._phrases[fold(phrase)] = codes
        # Longest first, so "ubnd cap huyen" wins over "ubnd" and "so ke hoach va dau tu"
        # is not cut at "va".
        self._ordered = sorted(self._phrases, key=len, reverse=True)
        self._first: dict[str, list[str]] = {}
        for key in self._ordered:
            self._first.setdefault(key[:2], []).append(key)

    def _match(self, text: str) -> str | None:
        for key in self._first.get(text[:2], ()):
            if text.startswith(key) and _WORD_END.match(text, len(key)):
                return key
        return None

    def resolve(self, cell: str | None) -> CellResolution:
        """Agencies named in a cell, each with the annotation the cell gave it."""
        result = CellResolution()
        seen: set[str] = set()
        text = clean(cell)
        if not text:
            return result
        for segment in _SEGMENT_SPLIT.split(text):
            original = segment.strip(" ,.;:-–")
            if not original:
                continue
            folded = fold(original)
            # fold() keeps length for Vietnamese letters, so folded offsets index `original`.
            aligned = len(folded) == len(original)
            pos = 0
            codes: list[str] = []
            while pos < len(folded):
                skipped = _SKIP.match(folded, pos)
                if skipped:
                    pos = skipped.end()
                    continue
                key = self._match(folded[pos:])
                if key is None:
                    break
                codes.extend(self._phrases[key])
                pos += len(key)
            rest = folded[pos:].strip(" ,.;:")
            if aligned:
                rest = original[len(original) - len(rest) :] if rest else ""
            if not codes:
                result.unresolved.append(original)
                continue
            for code in codes:
                if code not in seen:
                    seen.add(code)
                    result.agencies.append(AgencyRef(code, rest))
        return result

