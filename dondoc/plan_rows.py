"""What each row of a plan table means: a section, a heading, or a task with its agencies.

Every problem is collected with its row and cell instead of stopping at the first, so
one run of `dondoc plan import` lists everything to fix.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dondoc.agency_cells import AgencyCellReader, NewAgency
from dondoc.plan_reader import SourceRow
from rules.deadline import ParseError, parse_deadline
from rules.text import nfc

# "I", "II.", "A" (and "I. TITLE" when the section row is merged across the table).
_SECTION = re.compile(r"^(?P<code>[IVXLC]{1,6}|[A-ZĐ])(?:[.)]|\s*$|\s+)\s*(?P<rest>.*)$")
_ARABIC = re.compile(r"^\d+(?:\.\d+)*$")
_LETTER = re.compile(r"^[a-zđ]$")
_ROLE_LABELS = {"lead": "Chủ trì", "coordinators": "Phối hợp"}


@dataclass
class TaskDraft:
    line: int
    number: str
    values: dict[str, Any]
    leads: list[str]
    coordinators: list[str]


@dataclass
class _Context:
    """Where the reader is in the table: its section, heading, and last numbered row."""

    section_code: str | None = None
    section_title: str | None = None
    parent: str | None = None  # what "a)", "b)" are numbered under
    heading_number: str | None = None
    heading_title: str | None = None


@dataclass
class RowReader:
    """Turns source rows into task drafts, collecting every problem instead of stopping."""

    session: Session
    create_agencies: bool
    cells: AgencyCellReader = field(init=False)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cells = AgencyCellReader(self.session, create_agencies=self.create_agencies)

    @property
    def created(self) -> dict[str, NewAgency]:
        return self.cells.created

    def problem(self, row: SourceRow, fieldname: str | None, message: str) -> None:
        where = f"dòng {row.line}" + (f", {row.columns[fieldname]}" if fieldname else "")
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
        section = _SECTION.match(number) if number else None
        if names_nobody and (section or (not number and title)):
            at.section_code = section.group("code") if section else None
            at.section_title = title or (nfc(section.group("rest")) if section else None)
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
            shown = number if len(number) <= 60 else number[:59].rstrip() + "…"
            self.notes.append(f"dòng {row.line}: bỏ qua dòng chỉ có chữ '{shown}'")
            return True
        return False

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
        if not title:
            self.problem(row, "title", "thiếu tên nhiệm vụ.")
        notes = [nfc(row.cell("notes"))] if row.cell("notes") else []
        if under and at.heading_title:
            notes.insert(0, f"Thuộc nhóm nhiệm vụ {under}: {at.heading_title}")
        leads = self._agencies(row, "lead", notes)
        if not row.cell("lead"):
            self.problem(row, "lead", "thiếu cơ quan chủ trì.")
        coordinators = [c for c in self._agencies(row, "coordinators", notes) if c not in leads]
        deadline_text = nfc(row.cell("deadline")) or None
        deadline = None
        if deadline_text:
            try:
                deadline = parse_deadline(deadline_text).to_dict()
            except ParseError as exc:
                self.problem(row, "deadline", str(exc))
        values = {
            "section_code": at.section_code,
            "section_title": at.section_title,
            "title": title,
            "product": nfc(row.cell("product")) or None,
            "deadline_text": deadline_text,
            "deadline": deadline,
            "lead_text": row.cell("lead") or None,
            "coordinator_text": row.cell("coordinators") or None,
            "notes": "; ".join(notes) or None,
            "position": position,
        }
        return TaskDraft(row.line, number, values, leads, coordinators)

    def _agencies(self, row: SourceRow, fieldname: str, notes: list[str]) -> list[str]:
        reading = self.cells.read(row.cell(fieldname), role=fieldname)
        for message in reading.problems:
            self.problem(row, fieldname, message)
        for note in reading.notes:
            notes.append(f"{_ROLE_LABELS[fieldname]}: {note}")
            self.notes.append(f"dòng {row.line}: ghi chú '{note}' (không phải người nhận)")
        notes.extend(f"{_ROLE_LABELS[fieldname]}: {change}" for change in reading.successions)
        self.notes.extend(f"dòng {row.line}: CẢNH BÁO: {w}" for w in reading.warnings)
        return reading.codes

    def _qualify_numbers(self, drafts: list[TaskDraft], column: str) -> list[TaskDraft]:
        # Plans that restart numbering in every section get "II.3"-style numbers.
        counts = Counter(d.number for d in drafts)
        if any(n > 1 for n in counts.values()):
            for draft in drafts:
                if draft.values["section_code"]:
                    draft.number = f"{draft.values['section_code']}.{draft.number}"
        seen: dict[str, int] = {}
        for draft in drafts:
            if draft.number in seen:
                self.problems.append(
                    f"dòng {draft.line}, {column}: STT '{draft.number}' trùng với dòng "
                    f"{seen[draft.number]}; mỗi nhiệm vụ cần một STT riêng."
                )
            seen.setdefault(draft.number, draft.line)
        return drafts


def _clean_number(cell: str) -> str:
    """'1.' → '1', 'a)' → 'a', '1.1.' → '1.1'; section numerals keep their case."""
    return nfc(cell).rstrip(".)").strip()
