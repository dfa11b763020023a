"""What an agency cell of a plan names: the agencies to remind, notes, and what is wrong.

The table reader (plan_rows) knows rows and sections; this module alone knows how a cell
such as "Sở Tài chính, các sở, ngành liên quan" turns into recipients, and which new
agencies and groups `--create-agencies` would add. Whatever takes recipients away (a
whole cell read as a note, a group nobody belongs to) is a warning, never silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftfy.badness import is_bad
from sqlmodel import Session, select

from dondoc.directory import build_name_index, group_members
from dondoc.models import Agency, AgencyGroup
from dondoc.name_grammar import fragments, is_group_phrase
from dondoc.names import NameIndex, Target, name_key
from rules.text import fold_words, nfc


def slug(text: str) -> str:
    return "-".join(fold_words(text).split())[:60] or "co-quan"


@dataclass
class NewAgency:
    code: str
    name: str


@dataclass(frozen=True)
class GroupUse:
    """A group a cell names, and how many agencies it reaches (0: nobody is reminded)."""

    code: str
    name: str
    members: int
    created: bool = False


@dataclass
class AgencyCell:
    """One cell read: agency codes (groups expanded), notes, and problems in Vietnamese.

    `warnings` are what removes recipients without being an error (a cell read wholly
    as a note, a group without members); `--strict` makes them errors. `successions`
    say which former names were read as today's agencies.
    """

    codes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    groups: list[GroupUse] = field(default_factory=list)
    successions: list[str] = field(default_factory=list)


@dataclass
class AgencyCellReader:
    """Reads agency cells against the store's directory, creating agencies when asked."""

    session: Session
    create_agencies: bool
    index: NameIndex = field(init=False)
    members: dict[str, list[str]] = field(init=False)
    codes: set[str] = field(init=False)
    created: dict[str, NewAgency] = field(default_factory=dict)  # name_key → new agency
    # name_key → new group; added to the session at once (rolled back with a dry run).
    created_groups: dict[str, NewAgency] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = build_name_index(self.session)
        self.members = group_members(self.session)
        # A new code never takes one an agency or a group already has.
        self.codes = set(self.session.exec(select(Agency.code)).all())
        self.codes |= set(self.session.exec(select(AgencyGroup.code)).all())

    def read(self, cell: str, *, role: str) -> AgencyCell:
        """Read one cell; `role` is "lead" or "coordinators"."""
        reading = self.index.read_cell(cell)
        result = AgencyCell(notes=list(reading.notes), successions=list(reading.successions))
        for target in reading.targets:
            self._add_target(result, target)
        for name in reading.unknown:
            if is_bad(name):
                result.problems.append(
                    f"tên '{name}' có vẻ bị lỗi mã chữ (kiểu 'Sá»' thay cho 'Sở'); hãy lưu lại "
                    "tệp dạng UTF-8 hoặc sửa tên rồi nhập lại. Không tạo cơ quan từ tên này."
                )
            elif self.create_agencies:
                self._create(result, name)
            else:
                result.problems.append(self._unknown_problem(name))
        if cell and not reading.targets and not reading.unknown and reading.notes:
            if role == "lead":
                result.problems.append(
                    f"'{nfc(cell)}' không chỉ rõ cơ quan nào chủ trì; hãy ghi tên cơ quan."
                )
            else:
                result.warnings.append(
                    f"cả ô '{nfc(cell)}' được hiểu là ghi chú: không cơ quan nào được nhắc "
                    "theo ô này."
                )
        return result

    def _add_target(self, result: AgencyCell, target: Target, *, created: bool = False) -> None:
        if target.kind == "agency":
            if target.code not in result.codes:
                result.codes.append(target.code)
            return
        members = self.members.get(target.code, [])
        result.codes.extend(c for c in members if c not in result.codes)
        result.groups.append(GroupUse(target.code, target.name, len(members), created))
        if not members:
            result.warnings.append(
                f"nhóm '{target.name}' ({target.code}) chưa có cơ quan thành viên nào: không "
                "ai được nhắc cho nhóm này cho đến khi thêm thành viên (sửa nhóm trong tệp "
                "danh bạ rồi chạy `dondoc agencies load`)."
            )

    def _create(self, result: AgencyCell, name: str) -> None:
        key = name_key(name)
        if any(f.hard for f in fragments(name)):
            # The grammar never yields such a name; refuse rather than invent a phantom.
            result.problems.append(
                f"'{name}' có vẻ gồm nhiều cơ quan; hãy tách bằng dấu ';' rồi nhập lại."
            )
            return
        if is_group_phrase(name):
            group = self.created_groups.get(key) or self._new_group(name)
            self._add_target(result, Target("group", group.code, group.name), created=True)
            return
        agency = self.created.get(key) or self._new_agency(name)
        if agency.code not in result.codes:
            result.codes.append(agency.code)

    def _unknown_problem(self, name: str) -> str:
        if is_group_phrase(name):
            return (
                f"không có nhóm '{name}' trong danh bạ. (Thêm nhóm và thành viên vào danh bạ "
                "bằng `dondoc agencies load`, hoặc nhập với --create-agencies để tạo nhóm "
                "chưa có thành viên.)"
            )
        hint = self.index.suggestions(name)
        suggestion = f" Có phải: {'; '.join(hint)}?" if hint else ""
        return (
            f"không có cơ quan '{name}' trong danh bạ.{suggestion} (Thêm vào danh bạ bằng "
            "`dondoc agencies load`, hoặc nhập với --create-agencies.)"
        )

    def _new_code(self, name: str) -> str:
        base = slug(name)
        code, n = base, 2
        while code in self.codes:
            code, n = f"{base}-{n}", n + 1
        self.codes.add(code)
        return code

    def _new_agency(self, name: str) -> NewAgency:
        agency = NewAgency(code=self._new_code(name), name=name)
        self.created[name_key(name)] = agency
        self.index.add(Target("agency", agency.code, name), [name])
        return agency

    def _new_group(self, name: str) -> NewAgency:
        group = NewAgency(code=self._new_code(name), name=name)
        self.created_groups[name_key(name)] = group
        self.session.add(AgencyGroup(code=group.code, name=name, aliases=[]))
        self.index.add(Target("group", group.code, name), [name])
        self.members[group.code] = []
        return group
