"""References and conditions: what a deadline depends on is kept, and never becomes a date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rules.deadline import parse_deadline


def understood(phrase: str) -> dict[str, Any]:
    """What the parser made of `phrase`, without empty fields."""
    deadline = parse_deadline(phrase)
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


def once(due: date, **fields: Any) -> dict[str, Any]:
    return {"kind": "once", "due": due, **fields}


def external(depends_on: str) -> dict[str, Any]:
    return {"kind": "external", "depends_on": depends_on}


def check(table: dict[str, dict[str, Any]]) -> Any:
    return pytest.mark.parametrize(("phrase", "meant"), list(table.items()), ids=list(table))


EXTERNAL = {
    "Theo tiến độ của Đề án 06": external("Đề án 06"),
    "Theo tiến độ Đề án 06": external("Đề án 06"),
    "Theo lộ trình Nghị định số 107/2021/NĐ-CP": external("Nghị định số 107/2021/NĐ-CP"),
    "Theo Kế hoạch riêng của UBND tỉnh": external("Kế hoạch riêng của UBND tỉnh"),
    "Theo Kế hoạch riêng …": external("Kế hoạch riêng …"),
    "Sau khi Nghị định được ban hành": external("Nghị định được ban hành"),
    "Khi có quyết định của UBND tỉnh": external("quyết định của UBND tỉnh"),
    "according to the schedule of Project 06": external("Project 06"),
    "after the Decree is issued": external("the Decree is issued"),
}


@check(EXTERNAL)
def test_an_external_milestone_keeps_its_reference_and_no_date(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


DOCUMENT_DATES = {
    "Theo Kế hoạch số 256/KH-UBND ngày 26/01/2022": external(
        "Kế hoạch số 256/KH-UBND ngày 26/01/2022"
    ),
    "Theo Quyết định số 468/QĐ-TTg ngày 27/3/2021": external(
        "Quyết định số 468/QĐ-TTg ngày 27/3/2021"
    ),
    "Theo Kế hoạch số 256/KH-UBND, ngày 26/01/2022": external(
        "Kế hoạch số 256/KH-UBND, ngày 26/01/2022"
    ),
    "Năm 2023 theo Kế hoạch số 256/KH-UBND ngày 26/01/2022": once(
        date(2023, 12, 31), depends_on="Kế hoạch số 256/KH-UBND ngày 26/01/2022"
    ),
    "Trong năm 2022 (sau khi Quyết định số 468/QĐ-TTg ngày 27/3/2021 có hiệu lực)": once(
        date(2022, 12, 31), note="sau khi Quyết định số 468/QĐ-TTg ngày 27/3/2021 có hiệu lực"
    ),
}


@check(DOCUMENT_DATES)
def test_a_date_inside_a_document_reference_is_never_a_deadline(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


CONDITIONS = {
    "Trong năm 2022 (sau khi …)": once(date(2022, 12, 31), note="sau khi …"),
    "Trong năm 2022, sau khi Đề án được phê duyệt": once(
        date(2022, 12, 31), note="sau khi Đề án được phê duyệt"
    ),
    "Quý II/2023 (nếu được bố trí kinh phí)": once(
        date(2023, 6, 30), note="nếu được bố trí kinh phí"
    ),
    "Sau khi Đề án được duyệt, trong năm 2023": once(
        date(2023, 12, 31), note="Sau khi Đề án được duyệt"
    ),
    "Theo tiến độ Đề án 06, chậm nhất Quý IV/2023": once(date(2023, 12, 31), depends_on="Đề án 06"),
}


CONDITIONS |= {
    "Năm 2023, theo tiến độ Đề án 06, chậm nhất năm 2024": once(
        date(2024, 12, 31), target=date(2023, 12, 31), depends_on="Đề án 06"
    ),
    "Năm 2023 (theo Kế hoạch số 256/KH-UBND ngày 26/01/2022)": once(
        date(2023, 12, 31), depends_on="Kế hoạch số 256/KH-UBND ngày 26/01/2022"
    ),
    "Năm 2025 (định hướng đến năm 2030)": once(date(2025, 12, 31), note="định hướng đến năm 2030"),
}


@check(CONDITIONS)
def test_a_condition_is_kept_as_a_note_and_the_date_still_counts(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant
