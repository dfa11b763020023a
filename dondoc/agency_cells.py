"""What an agency cell of a plan names: the agencies to remind, notes, and what is wrong.

The table reader (plan_rows) knows rows and sections; this module alone knows how a cell
such as "Sở Tài chính, các sở, ngành liên quan" turns into recipients, and which new
agencies `--create-agencies` would add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from dondoc.directory import build_name_index, group_members
from dondoc.models import Agency
from dondoc.names import NameIndex, Target, name_key
from rules.text import fold_words, nfc


def slug(text: str) -> str:
    return "-".join(fold_words(text).split())[:60] or "co-quan"


@dataclass
class NewAgency:
    code: str
    name: str


@dataclass
class AgencyCell:
    """One cell read: agency codes (groups expanded), notes, and problems in Vietnamese."""

    codes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Recipients lost without an error (an empty group, a cell read as a note only).
    warnings: list[str] = field(default_factory=list)


@dataclass
class AgencyCellReader:
    """Reads agency cells against the store's directory, creating agencies when asked."""

    session: Session
    create_agencies: bool
    index: NameIndex = field(init=False)
    members: dict[str, list[str]] = field(init=False)
    codes: set[str] = field(init=False)
    created: dict[str, NewAgency] = field(default_factory=dict)  # name_key → new agency

    def __post_init__(self) -> None:
        self.index = build_name_index(self.session)
        self.members = group_members(self.session)
        self.codes = set(self.session.exec(select(Agency.code)).all())

    def read(self, cell: str, *, role: str) -> AgencyCell:
        """Read one cell; `role` is "lead" or "coordinators"."""
        reading = self.index.read_cell(cell)
        result = AgencyCell(notes=list(reading.notes))
        codes = result.codes
        for target in reading.targets:
            expanded = (
                self.members.get(target.code, []) if target.kind == "group" else [target.code]
            )
            codes.extend(c for c in expanded if c not in codes)
        for name in reading.unknown:
            if self.create_agencies:
                agency = self.created.get(name_key(name)) or self._new_agency(name)
                codes.append(agency.code)
                continue
            hint = self.index.suggestions(name)
            suggestion = f" Có phải: {'; '.join(hint)}?" if hint else ""
            result.problems.append(
                f"không có cơ quan '{name}' trong danh bạ.{suggestion} (Thêm vào danh bạ bằng "
                "`dondoc agencies load`, hoặc nhập với --create-agencies.)"
            )
        if role == "lead" and cell and not codes and not reading.unknown:
            result.problems.append(
                f"'{nfc(cell)}' không chỉ rõ cơ quan nào chủ trì; hãy ghi tên cơ quan."
            )
        return result

    def _new_agency(self, name: str) -> NewAgency:
        base = slug(name)
        code, n = base, 2
        while code in self.codes:
            code, n = f"{base}-{n}", n + 1
        self.codes.add(code)
        agency = NewAgency(code=code, name=name)
        self.created[name_key(name)] = agency
        self.index.add(Target("agency", code, name), [name])
        return agency
