"""Public holidays kept between commands, so a short command need not import `holidays`.

Asking the `holidays` package for Vietnam's holidays imports every country's calendar
first, which cost `dondoc preview` more than its own simulation. A command that needs
the calendar of a few years keeps them in a file of the data directory. The file is
named after the package's version, so an upgraded package (a newly announced day off)
is asked again, never masked by an older answer.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rules.calendar import WorkCalendar, public_holidays

_FORMAT = 1


def with_known_holidays(
    calendar: WorkCalendar, *, folder: Path, years: Iterable[int]
) -> WorkCalendar:
    """`calendar`, knowing the public holidays of `years` from the file in `folder`; the
    years the file lacks are asked of the package once and added to it."""
    try:
        path = folder / f"holidays-VN-{version('holidays')}.json"
    except PackageNotFoundError:
        return calendar  # no version to name the file by: ask the package every time
    known = _read(path)
    wanted = sorted(set(years))
    missing = [year for year in wanted if year not in known]
    if missing:
        known.update((year, public_holidays(year)) for year in missing)
        _write(path, known)
    return replace(calendar, known_holidays={year: known[year] for year in wanted})


def _read(path: Path) -> dict[int, frozenset[date]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != _FORMAT:
            return {}
        return {
            int(year): frozenset(date.fromisoformat(day) for day in days)
            for year, days in data["years"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # Unreadable or edited by hand: asked of the package again, and written anew.
        return {}


def _write(path: Path, known: dict[int, frozenset[date]]) -> None:
    data = {
        "format": _FORMAT,
        "years": {
            str(year): sorted(day.isoformat() for day in days)
            for year, days in sorted(known.items())
        },
    }
    # A data directory the command may not write to is no failure: the calendar is
    # complete without the file, which only saves the next command some time.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        # Written whole, then renamed: a reader never sees half a file.
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
