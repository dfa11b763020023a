"""Roles written inside an agency cell: "Chủ trì: A; Phối hợp: B", "A (chủ trì), B, C".

Plans with one "Cơ quan thực hiện" column say who leads inside the cell, in three ways:
labels ("Chủ trì: …", "Cơ quan phối hợp: …"), a mark after a name ("Sở Nội vụ (chủ
trì)", "(phối hợp)", "(đồng chủ trì)") and prose ("Sở Tài chính chủ trì, phối hợp với
Sở Nội vụ"). Read as plain names, the coordinators after such a label would become leads
without a word, so the cell is cut by role first. Pure: text in, texts by role out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

LEAD, COORDINATORS = "lead", "coordinators"

_ROLE = r"(?P<role>(?:dong )?chu tri|phoi hop)"
# "Chủ trì:", "- Cơ quan phối hợp:", "Đơn vị chủ trì thực hiện:" (the colon is what makes
# it a label: "Hội đồng phối hợp phổ biến pháp luật" is a name).
_LABEL = re.compile(
    rf"(?:(?<=\s)|^)(?:(?:co quan|don vi|cq|dv)(?: don vi| co quan)?\s+)?{_ROLE}"
    r"(?:\s+(?:thuc hien|thuc hien chinh|chinh))?\s*:",
)
# "Sở Nội vụ (chủ trì)", "(đồng chủ trì)", "(cơ quan chủ trì)", "(phối hợp)".
_MARK = re.compile(rf"\(\s*(?:(?:co quan|don vi|la)\s+)?{_ROLE}\s*\)")
# "Sở Tài chính chủ trì, phối hợp với Sở Nội vụ, …" / "… chủ trì; phối hợp: …".
_PROSE = re.compile(r"\s+chu tri\s*[,;.]?\s*(?:va\s+)?phoi hop(?:\s+voi)?\s*:?\s+")
_TRAILING_LEAD = re.compile(r"\s+chu tri\s*[.;,]?\s*$")
_EDGE = " \t\n;,.-–•+*:"


@dataclass
class RoleSplit:
    """The parts of one cell by role, in the cell's order; `implied` says unmarked names
    were given the coordinator role by the "A (chủ trì), B, C" convention."""

    lead: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)
    implied: bool = False

    def add(self, role: str, text: str) -> None:
        text = text.strip(_EDGE)
        if text:
            (self.lead if role == LEAD else self.coordinators).append(text)


def split_roles(cell: str, *, column_role: str) -> RoleSplit | None:
    """The cell cut by the roles written in it, or None when it names no role.

    Text before the first label, and names without a mark, keep `column_role`, except
    that names after a "(chủ trì)" mark coordinate, as plans with one column mean.
    """
    cell = unicodedata.normalize("NFC", cell)
    folded = _fold_keep_length(cell)
    labels = list(_LABEL.finditer(folded))
    if labels:
        split = RoleSplit()
        split.add(column_role, cell[: labels[0].start()])
        for label, after in zip(labels, [*labels[1:], None], strict=True):
            end = after.start() if after is not None else len(cell)
            split.add(_role(label.group("role")), cell[label.end() : end])
        return split
    prose = _PROSE.search(folded)
    if prose is not None:
        split = RoleSplit()
        split.add(LEAD, cell[: prose.start()])
        split.add(COORDINATORS, cell[prose.end() :])
        return split
    marks = list(_MARK.finditer(folded))
    if marks:
        return _by_marks(cell, marks, column_role)
    trailing = _TRAILING_LEAD.search(folded)
    if trailing is not None and trailing.start() > 0:
        split = RoleSplit()
        split.add(LEAD, cell[: trailing.start()])
        return split
    return None


def _by_marks(cell: str, marks: list[re.Match[str]], column_role: str) -> RoleSplit:
    """Each mark applies to the text since the previous one; the unmarked tail follows
    the convention of a lead mark (its names coordinate) or else the column."""
    split = RoleSplit()
    start = 0
    lead_marked = False
    for mark in marks:
        role = _role(mark.group("role"))
        lead_marked = lead_marked or role == LEAD
        split.add(role, cell[start : mark.start()])
        start = mark.end()
    tail = cell[start:]
    if tail.strip(_EDGE):
        tail_role = COORDINATORS if lead_marked else column_role
        split.implied = lead_marked and column_role == LEAD
        split.add(tail_role, tail)
    return split


def _role(word: str) -> str:
    return COORDINATORS if word == "phoi hop" else LEAD


def _fold_keep_length(text: str) -> str:
    """Lower case without diacritics, one character for one, so positions carry over."""
    out = []
    for char in text:
        lower = char.lower()
        if len(lower) != 1:
            lower = char
        base = unicodedata.normalize("NFD", lower)[0]
        out.append("d" if base == "đ" else base)
    return "".join(out)
