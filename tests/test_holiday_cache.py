"""Public holidays kept between commands: the same calendar as asking the package."""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

from dondoc.holiday_cache import with_known_holidays
from rules.calendar import WorkCalendar, public_holidays

YEARS = range(2022, 2026)
FILE = f"holidays-VN-{version('holidays')}.json"


def days(years: range) -> list[date]:
    first, last = date(years.start, 1, 1), date(years.stop, 1, 1)
    return [first + timedelta(days=n) for n in range((last - first).days)]


def test_the_kept_years_decide_every_day_as_the_package_does(tmp_path: Path) -> None:
    plain = WorkCalendar(extra_days_off=frozenset({date(2023, 5, 2)}))
    kept = with_known_holidays(plain, folder=tmp_path, years=YEARS)
    assert kept.known_holidays == {year: public_holidays(year) for year in YEARS}
    assert len(kept.known_holidays[2023]) >= 10  # Tết alone is five days
    assert [kept.is_working_day(d) for d in days(YEARS)] == [
        plain.is_working_day(d) for d in days(YEARS)
    ]
    # Read back from the file by the next command, as written.
    again = with_known_holidays(plain, folder=tmp_path, years=YEARS)
    assert again == kept


def test_the_file_is_what_the_next_command_believes(tmp_path: Path) -> None:
    with_known_holidays(WorkCalendar(), folder=tmp_path, years=YEARS)
    data = json.loads((tmp_path / FILE).read_text(encoding="utf-8"))
    data["years"]["2023"].append("2023-03-15")  # a Wednesday the package knows nothing of
    (tmp_path / FILE).write_text(json.dumps(data), encoding="utf-8")
    kept = with_known_holidays(WorkCalendar(), folder=tmp_path, years=YEARS)
    assert kept.is_holiday(date(2023, 3, 15))
    assert not WorkCalendar().is_holiday(date(2023, 3, 15))


def test_a_file_of_another_version_of_the_package_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "holidays-VN-0.1.json").write_text(
        json.dumps({"format": 1, "years": {"2023": ["2023-03-15"]}}), encoding="utf-8"
    )
    kept = with_known_holidays(WorkCalendar(), folder=tmp_path, years=YEARS)
    assert not kept.is_holiday(date(2023, 3, 15))


def test_missing_years_are_asked_and_added(tmp_path: Path) -> None:
    with_known_holidays(WorkCalendar(), folder=tmp_path, years=range(2023, 2024))
    kept = with_known_holidays(WorkCalendar(), folder=tmp_path, years=range(2022, 2025))
    assert set(kept.known_holidays) == {2022, 2023, 2024}
    data = json.loads((tmp_path / FILE).read_text(encoding="utf-8"))
    assert sorted(data["years"]) == ["2022", "2023", "2024"]


def test_a_damaged_file_is_asked_again_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text('{"format": 1, "years": {"2023": ["2023-02-3', encoding="utf-8")
    kept = with_known_holidays(WorkCalendar(), folder=tmp_path, years=YEARS)
    assert kept.known_holidays == {year: public_holidays(year) for year in YEARS}
    data = json.loads((tmp_path / FILE).read_text(encoding="utf-8"))
    assert data["years"]["2023"] == sorted(d.isoformat() for d in public_holidays(2023))


def test_a_folder_it_cannot_write_to_leaves_the_calendar_complete(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")  # a file where the folder should be
    kept = with_known_holidays(WorkCalendar(), folder=blocked, years=YEARS)
    assert kept.known_holidays == {year: public_holidays(year) for year in YEARS}
    assert blocked.read_text(encoding="utf-8") == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]
