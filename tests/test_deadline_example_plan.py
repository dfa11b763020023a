"""Every deadline of the example plan (appendix of Resolution 131) reads as the office meant it."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rules.deadline import Deadline, Recurrence, parse_deadline

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "nq131-phu-luc.csv"
DEADLINE_COLUMN = "Thời gian hoàn thành"

MEANT: dict[str, dict[str, Any]] = {
    "Tháng 12/2022": {"kind": "once", "due": date(2022, 12, 31)},
    "Tháng 12/2023": {"kind": "once", "due": date(2023, 12, 31)},
    "Tháng 5/2023": {"kind": "once", "due": date(2023, 5, 31)},
    "Tháng 6/2023": {"kind": "once", "due": date(2023, 6, 30)},
    "Tháng 9/2023": {"kind": "once", "due": date(2023, 9, 30)},
    "Quý II/2023": {"kind": "once", "due": date(2023, 6, 30)},
    "Tháng 11/2022, chậm nhất tháng 3/2023": {
        "kind": "once",
        "target": date(2022, 11, 30),
        "due": date(2023, 3, 31),
    },
    "Giai đoạn 2023 - 2025": {
        "kind": "once",
        "start": date(2023, 1, 1),
        "due": date(2025, 12, 31),
    },
    "Hàng quý": {"kind": "recurring", "recurrence": Recurrence(3)},
    "Thường xuyên": {"kind": "ongoing"},
    "Theo tiến độ của Đề án 06": {"kind": "external", "depends_on": "Đề án 06"},
    "Theo lộ trình Nghị định số 107/2021/NĐ-CP": {
        "kind": "external",
        "depends_on": "Nghị định số 107/2021/NĐ-CP",
    },
    "Theo tiến độ Đề án 06 và Quyết định số 422/QĐ-TTg của Thủ tướng Chính phủ": {
        "kind": "external",
        "depends_on": "Đề án 06 và Quyết định số 422/QĐ-TTg của Thủ tướng Chính phủ",
    },
}


def understood(deadline: Deadline) -> dict[str, Any]:
    """The parsed value without its verbatim phrase and without empty fields."""
    data = {
        "kind": deadline.kind,
        "start": deadline.start,
        "target": deadline.target,
        "due": deadline.due,
        "recurrence": deadline.recurrence,
        "depends_on": deadline.depends_on,
        "note": deadline.note,
    }
    return {key: value for key, value in data.items() if value is not None}


def plan_phrases() -> list[str]:
    with EXAMPLE_PLAN.open(encoding="utf-8", newline="") as handle:
        return [row[DEADLINE_COLUMN] for row in csv.DictReader(handle)]


def test_every_deadline_phrase_of_the_example_plan_has_an_expected_reading() -> None:
    phrases = {phrase for phrase in plan_phrases() if phrase.strip()}

    assert phrases == set(MEANT)


@pytest.mark.parametrize("phrase", sorted(MEANT))
def test_an_example_plan_deadline_reads_as_the_office_meant_it(phrase: str) -> None:
    deadline = parse_deadline(phrase)

    assert understood(deadline) == MEANT[phrase]
    assert deadline.phrase == phrase


def test_every_row_of_the_example_plan_with_a_deadline_parses() -> None:
    # Section headings ("I", "II") have no deadline; the importer skips blank cells.
    kinds = Counter(parse_deadline(p).kind for p in plan_phrases() if p.strip())

    assert kinds == {"once": 12, "ongoing": 11, "recurring": 1, "external": 4}
