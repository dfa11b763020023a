"""What each row of a plan table means: a section, a heading, or a task with its agencies.

Every problem is collected with its row and cell instead of stopping at the first, so
one run of `dondoc plan import` lists everything to fix. Anything that drops recipients
without being an error (a cell read whole as a note, a group nobody belongs to) is a
warning, which `--strict` turns into an error.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dondoc.agency_cells import AgencyCell, AgencyCellReader, NewAgency
from dondoc.agency_roles import COORDINATORS, LEAD, split_roles
from dondoc.plan_reader import SourceRow
from dondoc.plan_sections import SECTION, SectionPath, wide_heading
from rules.deadline import ParseError, parse_deadline
from rules.text import nfc

_ARABIC = re.compile(r"^\d+(?:\.\d+)*$")
_LETTER = re.compile(r"^[a-zđ]$")
_ROLE_LABELS = {"lead": "Chủ trì", "coordinators": "Phối hợp"}
# Cells a continuation row (no STT) leaves blank take the value of the task above:
# in Word and Excel they were merged over both rows.
_INHERITED = ("coordinators", "deadline", "product")
_SUFFIXES = "bcdefghijklmnopqrstuvwxyz"


@dataclass
class TaskDraft:
    line: int
    number: str
    values: dict[str, Any]
    leads: list[str]
    coordinators: list[str]
    short_number: str = ""
    deadline_described: str | None = None
    where: str = ""
    cells: dict[str, str] = field(default_factory=dict, repr=False)  # as read, by field
    continues: str | None = None  # the task a continuation row ("1b") continues


@dataclass
class _Context:
    """Where the reader is in the table: its sections, heading, and last numbered row."""

    sections: SectionPath = field(default_factory=SectionPath)
    parent: str | None = None  # what "a)", "b)" are numbered under
    heading_number: str | None = None
    heading_title: str | None = None


@dataclass
class _Deadline:
    value: dict[str, Any] | None
    described: str | None
    error: str | None


@dataclass
class RowReader:
    """Turns source rows into task drafts, collecting every problem instead of stopping."""

    session: Session
    create_agencies: bool
    cells: AgencyCellReader = field(init=False)
    # Cells whose text was repaired are read against the directory only: a name that
    # ftfy could not fully mend must never become a new agency.
    checked_cells: AgencyCellReader = field(init=False)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Each distinct deadline phrase is parsed once: a plan repeats a handful of them.
    deadlines: dict[str, _Deadline] = field(default_factory=dict)
    # Agency cells repeat too ("Các sở, ban, ngành" on most rows): read each once.
    readings: dict[tuple[str, str, bool], AgencyCell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cells = AgencyCellReader(self.session, create_agencies=self.create_agencies)
        self.checked_cells = (
            AgencyCellReader(self.session, create_agencies=False)
            if self.create_agencies
            else self.cells
        )

    @property
    def created(self) -> dict[str, NewAgency]:
        return self.cells.created

    def problem(self, row: SourceRow, fieldname: str | None, message: str) -> None:
        where = row.where + (f", {row.columns[fieldname]}" if fieldname else "")
        self.problems.append(f"{where}: {message}")

    def read(self, rows: list[SourceRow]) -> list[TaskDraft]:
        drafts: list[TaskDraft] = []
        context = _Context()
        for position, row in enumerate(rows):
            number = _clean_number(row.cell("number"))
            title = nfc(row.cell("title"))
            if self._is_structure(row, number, title, rows[position + 1 : position + 2], context):
                continue
            if not number:
                if drafts and {"number", "title"} <= row.merged:
                    self._more_agencies(row, drafts[-1])
                    continue
                if drafts and _continues(row):
                    drafts.append(self._continuation(row, position, title, drafts, context))
                    continue
                self.problem(row, "number", "thiếu STT.")
                continue
            drafts.append(self._task(row, position, number, title, context))
        return self._qualify_numbers(drafts, rows[0].columns["number"] if rows else "STT")

    def _is_structure(
        self, row: SourceRow, number: str, title: str, following: list[SourceRow], at: _Context
    ) -> bool:
        """Sections, headings over sub-tasks and footnotes: rows that are not tasks."""
        # A row with a product is a task even without agencies (and then an error to fix).
        names_nobody = not any(row.cell(f) for f in ("lead", "coordinators", "deadline", "product"))
        section = SECTION.match(number) if number else None
        if names_nobody and (section or (not number and title)):
            if section:
                at.sections.enter(section.group("code"), title or nfc(section.group("rest")))
            else:
                at.sections.enter_untitled(title)
            at.parent = at.heading_number = at.heading_title = None
            return True
        if names_nobody and _ARABIC.match(number) and following:
            child = _clean_number(following[0].cell("number"))
            if child.startswith(number + ".") or _LETTER.match(child):
                # "1. Cải cách thể chế" over "1.1 …" or "a) …": a heading, not a task.
                at.parent = at.heading_number = number
                at.heading_title = title or None
                return True
        if (
            number
            and " " in number
            and len(number) > 12
            and not any(row.cell(f) for f in row.cells if f != "number")
        ):
            return self._wide_row(row, number, at)
        return False

    def _wide_row(self, row: SourceRow, text: str, at: _Context) -> bool:
        """A row of text alone in the STT cell, merged across the table: a section or a
        heading ("PHẦN II. …", "1. Lĩnh vực y tế", "NHIỆM VỤ CỤ THỂ"), else a footnote."""
        heading = wide_heading(text)
        if heading is None:
            shown = text if len(text) <= 60 else text[:59].rstrip() + "…"
            self.notes.append(f"{row.where}: bỏ qua dòng chỉ có chữ '{shown}'")
        elif heading[0] == "section":
            at.sections.enter(heading[1], heading[2])
            at.parent = at.heading_number = at.heading_title = None
        elif heading[0] == "numbered":
            at.parent = at.heading_number = heading[1]
            at.heading_title = heading[2]
        else:
            at.sections.enter_untitled(heading[2])
            at.parent = at.heading_number = at.heading_title = None
        return True

    def _task(
        self, row: SourceRow, position: int, number: str, title: str, at: _Context
    ) -> TaskDraft:
        if _LETTER.match(number) and at.parent:
            number = f"{at.parent}.{number}"
        elif _ARABIC.match(number):
            at.parent = number
        under = at.heading_number
        if under and not number.startswith(under + "."):
            at.heading_number = at.heading_title = under = None
        notes = []
        if under and at.heading_title:
            notes.append(f"Thuộc nhóm nhiệm vụ {under}: {at.heading_title}")
        return self._draft(row, position, number, title, at, notes, row.cells)

    def _continuation(
        self,
        row: SourceRow,
        position: int,
        title: str,
        drafts: list[TaskDraft],
        at: _Context,
    ) -> TaskDraft:
        """A row without STT under a task: its own sub-task and lead, the rest shared."""
        above = drafts[-1]
        base = above.continues or above.short_number
        count = sum(1 for d in drafts if d.continues == base)
        suffix = _SUFFIXES[min(count, len(_SUFFIXES) - 1)]
        cells = dict(row.cells)
        taken = []
        for name in _INHERITED:
            if not cells.get(name) and above.cells.get(name):
                cells[name] = above.cells[name]
                if name not in row.merged:
                    taken.append(row.columns.get(name, name))
        note = f"Tiếp nối nhiệm vụ {base} (dòng không có STT)"
        if taken:
            note += f"; lấy {', '.join(taken)} từ dòng trên"
        draft = self._draft(row, position, f"{base}{suffix}", title, at, [note], cells)
        draft.continues = base
        return draft

    def _more_agencies(self, row: SourceRow, task: TaskDraft) -> None:
        """STT and task merged over this row too: one task, whose lead cell was split
        into rows (one agency per row, as Word users lay out a long list)."""
        notes: list[str] = []
        # The cells above, carried down, were read with the task already.
        cells = {f: v for f, v in row.cells.items() if f not in row.merged}
        parts = self._role_parts(row, cells, notes)
        for role, codes in ((LEAD, task.leads), (COORDINATORS, task.coordinators)):
            others = task.leads if role == COORDINATORS else []
            codes.extend(
                c
                for c in self._read_role(row, parts, role, notes)
                if c not in codes and c not in others
            )
        if notes:
            task.values["notes"] = "; ".join(filter(None, [task.values["notes"], *notes]))

    def _draft(
        self,
        row: SourceRow,
        position: int,
        number: str,
        title: str,
        at: _Context,
        notes: list[str],
        cells: dict[str, str],
    ) -> TaskDraft:
        if not title:
            self.problem(row, "title", "thiếu tên nhiệm vụ.")
        if cells.get("notes"):
            notes.append(nfc(cells["notes"]))
        parts = self._role_parts(row, cells, notes)
        leads = self._read_role(row, parts, LEAD, notes)
        if not parts[LEAD]:
            self.problem(row, "lead", "thiếu cơ quan chủ trì.")
        coordinators = [
            c for c in self._read_role(row, parts, COORDINATORS, notes) if c not in leads
        ]
        deadline_text = nfc(cells.get("deadline", "")) or None
        deadline = self._deadline(deadline_text) if deadline_text else None
        if deadline is not None and deadline.error:
            self.problem(row, "deadline", deadline.error)
        values = {
            "section_code": at.sections.code,
            "section_title": at.sections.title,
            "title": title,
            "product": nfc(cells.get("product", "")) or None,
            "deadline_text": deadline_text,
            "deadline": deadline.value if deadline else None,
            "lead_text": "\n".join(text for _, text in parts[LEAD]) or None,
            "coordinator_text": "\n".join(text for _, text in parts[COORDINATORS]) or None,
            "notes": "; ".join(notes) or None,
            "position": position,
        }
        return TaskDraft(
            row.line,
            number,
            values,
            leads,
            coordinators,
            short_number=number,
            deadline_described=deadline.described if deadline else None,
            where=row.where,
            cells=cells,
        )

    def _deadline(self, text: str) -> _Deadline:
        known = self.deadlines.get(text)
        if known is None:
            try:
                parsed = parse_deadline(text)
                known = _Deadline(parsed.to_dict(), parsed.describe(), None)
            except ParseError as exc:
                known = _Deadline(None, None, str(exc))
            self.deadlines[text] = known
        return known

    def _role_parts(
        self, row: SourceRow, cells: dict[str, str], notes: list[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """Role → (column, text) of the agency cells, cut where a cell names roles
        itself ("Chủ trì: A; Phối hợp: B" in one "Cơ quan thực hiện" column)."""
        parts: dict[str, list[tuple[str, str]]] = {LEAD: [], COORDINATORS: []}
        for column in (LEAD, COORDINATORS):
            cell = cells.get(column, "")
            split = split_roles(cell, column_role=column) if cell else None
            if split is None:
                if cell:
                    parts[column].append((column, cell))
                continue
            parts[LEAD].extend((column, text) for text in split.lead)
            parts[COORDINATORS].extend((column, text) for text in split.coordinators)
            if split.implied:
                notes.append(
                    f"{row.columns[column]}: các cơ quan không ghi '(chủ trì)' được hiểu là "
                    "phối hợp"
                )
        return parts

    def _read_role(
        self, row: SourceRow, parts: dict[str, list[tuple[str, str]]], role: str, notes: list[str]
    ) -> list[str]:
        codes: list[str] = []
        for column, text in parts[role]:
            found = self._agencies(row, column, text, role, notes)
            codes.extend(c for c in found if c not in codes)
        return codes

    def _agencies(
        self, row: SourceRow, fieldname: str, cell: str, role: str, notes: list[str]
    ) -> list[str]:
        """The agencies `cell` (from the column of `fieldname`) names in `role`."""
        if fieldname in row.garbled:
            self.problem(
                row,
                fieldname,
                f"'{nfc(cell)[:80]}' vẫn có chữ lỗi mã hóa sau khi sửa; hãy gõ lại tên cơ quan "
                "đúng dấu trong tệp.",
            )
            return []
        repaired = fieldname in row.repaired
        key = (role, cell, repaired)
        reading = self.readings.get(key)
        if reading is None:
            reader = self.checked_cells if repaired else self.cells
            reading = self.readings[key] = reader.read(cell, role=role)
        for message in reading.problems:
            self.problem(row, fieldname, message)
        for note in reading.notes:
            notes.append(f"{_ROLE_LABELS[role]}: {note}")
            self.notes.append(f"{row.where}: ghi chú '{note}' (không phải người nhận)")
        notes.extend(f"{_ROLE_LABELS[role]}: {change}" for change in reading.successions)
        if not cell:
            return list(reading.codes)
        where = f"{row.where}, {row.columns[fieldname]}"
        for warning in reading.warnings:
            self.warnings.append(f"{where}: {warning}")
        if not reading.codes and not reading.problems and not reading.warnings:
            self.warnings.append(
                f"{where}: ô '{nfc(cell)[:80]}' không cho ra cơ quan nào để nhắc "
                "(cả ô được hiểu là ghi chú)."
            )
        return list(reading.codes)

    def _qualify_numbers(self, drafts: list[TaskDraft], column: str) -> list[TaskDraft]:
        # Plans that restart numbering in every section get "A.I.1.1"-style numbers.
        counts = Counter(d.number for d in drafts)
        if any(n > 1 for n in counts.values()):
            for draft in drafts:
                if draft.values["section_code"]:
                    draft.number = f"{draft.values['section_code']}.{draft.number}"
        seen: dict[str, str] = {}
        for draft in drafts:
            if draft.number in seen:
                self.problems.append(
                    f"{draft.where}, {column}: STT '{draft.number}' trùng với "
                    f"{seen[draft.number]}; mỗi nhiệm vụ cần một STT riêng."
                )
            seen.setdefault(draft.number, draft.where)
        return drafts


def _continues(row: SourceRow) -> bool:
    """A row without STT that continues the task above, rather than one missing its STT.

    Word and Excel say so: the STT cell was merged over both rows. A CSV cannot, so
    there the row must also leave the deadline blank (it was merged too); a row with
    its own lead and deadline but no STT is a mistake to fix.
    """
    if not row.cell("lead"):
        return False
    return "number" in row.merged or not row.cell("deadline")


def _clean_number(cell: str) -> str:
    """'1.' → '1', 'a)' → 'a', '1.1.' → '1.1'; section numerals keep their case."""
    return nfc(cell).rstrip(".)").strip()
