"""Reading what people type for an agency or a kind of agency, the same way everywhere.

Chat (/moi, /dongvai) and the command line (`--agency`, `--kind`) accept a code, a name or
part of a name, in Vietnamese with or without diacritics. The rule: an exact code, name or
alias names that agency; a part of a name is accepted only when it is the name with its
leading generic word dropped ("tư pháp" for "Sở Tư pháp") and nothing else matches. Anything
else — "UBND tỉnh", which is *inside* "Văn phòng UBND tỉnh" but is not it — is an ambiguity:
the candidates are listed, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from core.model import AgencyKind, UserRole
from core.text import fold

# Leading words of agency names that say what kind of body it is, not which one.
_GENERIC_HEADS = ("so", "ban", "phong", "cuc", "chi cuc", "ubnd", "uy ban nhan dan")

# Vietnamese words for the kinds of agency (folded), and the English values themselves.
_KIND_WORDS: dict[str, AgencyKind] = {
    "so": AgencyKind.DEPARTMENT,
    "so ban nganh": AgencyKind.DEPARTMENT,
    "so, ban, nganh": AgencyKind.DEPARTMENT,
    "huyen": AgencyKind.DISTRICT,
    "cap huyen": AgencyKind.DISTRICT,
    "ubnd cap huyen": AgencyKind.DISTRICT,
    "xa": AgencyKind.COMMUNE,
    "cap xa": AgencyKind.COMMUNE,
    "ubnd cap xa": AgencyKind.COMMUNE,
    "nganh doc": AgencyKind.VERTICAL,
    "co quan nganh doc": AgencyKind.VERTICAL,
    "su nghiep": AgencyKind.PUBLIC_UNIT,
    "don vi su nghiep": AgencyKind.PUBLIC_UNIT,
    "don vi su nghiep cong lap": AgencyKind.PUBLIC_UNIT,
    "khac": AgencyKind.OTHER,
    "co quan khac": AgencyKind.OTHER,
}
KIND_WORDS_SHOWN = ("sở", "huyện", "xã", "ngành dọc", "sự nghiệp", "khác")


def kind_from_words(text: str) -> AgencyKind | None:
    """ "sở", "cấp xã", "commune" … → the kind; None when it is none of them."""
    wanted = fold(text)
    for kind in AgencyKind:
        if wanted == kind.value:
            return kind
    return _KIND_WORDS.get(wanted)


@dataclass(frozen=True)
class NamedAgency:
    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameMatch:
    """`code` when the typed text names one agency; otherwise `candidates` (best first),
    empty when nothing matches."""

    code: str | None
    candidates: list[tuple[str, str]] = field(default_factory=list)


def match_agency(typed: str, agencies: Iterable[NamedAgency], limit: int = 200) -> NameMatch:
    wanted = fold(typed)
    if not wanted:
        return NameMatch(None)
    exact: list[NamedAgency] = []
    ranked: list[tuple[int, str, NamedAgency]] = []
    for agency in agencies:
        forms = [fold(agency.name), *(fold(a) for a in agency.aliases)]
        if fold(agency.code) == wanted or wanted in forms:
            exact.append(agency)
        elif any(form.startswith(wanted) for form in forms):
            ranked.append((0, agency.name, agency))
        elif any(wanted in form for form in forms):
            ranked.append((1, agency.name, agency))
    if len(exact) == 1:
        return NameMatch(exact[0].code, [(exact[0].code, exact[0].name)])
    if exact:
        return NameMatch(None, [(a.code, a.name) for a in exact])
    ranked.sort(key=lambda r: (r[0], r[1]))
    candidates = [(a.code, a.name) for _, _, a in ranked[:limit]]
    if len(ranked) == 1:
        only = ranked[0][2]
        forms = [fold(only.name), *(fold(a) for a in only.aliases)]
        if any(f"{head} {wanted}" in forms for head in _GENERIC_HEADS):
            return NameMatch(only.code, candidates)
    return NameMatch(None, candidates)


# What people type for a role (folded), Vietnamese first; the stored values are accepted too.
_ROLE_WORDS: dict[str, UserRole] = {
    "dau moi": UserRole.FOCAL,
    "daumoi": UserRole.FOCAL,
    "focal": UserRole.FOCAL,
    "dieu phoi": UserRole.COORDINATOR,
    "dieu phoi vien": UserRole.COORDINATOR,
    "dieuphoi": UserRole.COORDINATOR,
    "coordinator": UserRole.COORDINATOR,
    "lanh dao": UserRole.LEADER,
    "lanhdao": UserRole.LEADER,
    "leader": UserRole.LEADER,
    "quan tri": UserRole.ADMIN,
    "quan tri vien": UserRole.ADMIN,
    "admin": UserRole.ADMIN,
}


def role_from_words(text: str) -> UserRole | None:
    """ "đầu mối", "lãnh đạo", "focal" … → the role; None when it is none of them."""
    return _ROLE_WORDS.get(fold(text))


def split_role(text: str) -> tuple[str, UserRole | None, bool]:
    """ "Sở Tư pháp đầu mối" → ("Sở Tư pháp", FOCAL, True): an agency followed by an optional
    role. The flag says whether a role was written (False: the caller's default applies)."""
    words = text.split()
    for size in (3, 2, 1):
        if len(words) > size:
            role = role_from_words(" ".join(words[-size:]))
            if role is not None:
                return " ".join(words[:-size]), role, True
    return text.strip(), None, False
