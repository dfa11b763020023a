"""Fuzzing the plan reader: any table, in CSV, Excel or Word, is read or refused cleanly.

Cells mix the grammar's own vocabulary (headers, section numerals, agency names, deadline
phrases) with arbitrary unicode, control characters and mojibake. The only acceptable
outcomes are an import report or a `UserError` with a message; anything else is a bug.
The run is bounded (a fixed number of examples, no per-example deadline).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_files import write_docx, write_xlsx
from sqlalchemy.engine import Engine

from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.errors import UserError
from dondoc.plan_import import import_plan
from dondoc.store import make_engine, migrate, session_scope

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
VOCABULARY = [
    *HEADER,
    "Thời hạn",
    "Ghi chú",
    "(1)",
    "A",
    "B",
    "I",
    "II",
    "1.",
    "1.1",
    "a)",
    "Sở Tư pháp",
    "Các sở, ban, ngành",
    "UBND các xã, phường",
    "Văn phòng UBND tỉnh; Sở Nội vụ",
    "các đơn vị liên quan",
    "Sá»Ÿ TÆ° phÃ¡p",
    "S\ufffd Tư pháp",
    "Tháng 12/2025",
    "Thường xuyên",
    "Hàng quý",
    "Quý 0/2025",
    "=1+1",
    "\x00",
    "",
]
cells = st.one_of(
    st.sampled_from(VOCABULARY),
    st.text(max_size=30),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(VOCABULARY), st.text(max_size=8)),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=7), min_size=0, max_size=12)
tables = st.tuples(st.booleans(), rows).map(lambda t: ([HEADER] if t[0] else []) + t[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    yield engine
    engine.dispose()


def read_or_refuse(engine: Engine, path: Path, create: bool) -> None:
    try:
        with session_scope(engine) as session:
            import_plan(
                session,
                path=path,
                now=datetime(2025, 3, 1, tzinfo=UTC),
                plan_code="fuzz",
                dry_run=True,
                create_agencies=create,
            )
    except UserError as exc:
        assert exc.message.strip()


def _printable(text: str) -> str:
    # XML (XLSX, DOCX) cannot hold most control characters: a real file never has them.
    return "".join(c for c in text if c.isprintable() or c in "\n\t")


@settings(
    max_examples=int(os.environ.get("PLAN_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=tables, kind=st.sampled_from(["csv", "xlsx", "docx"]), create=st.booleans())
def test_any_table_is_read_or_refused_with_a_message(
    store: Engine, tmp_path: Path, table: list[list[str]], kind: str, create: bool
) -> None:
    path = tmp_path / f"fuzz.{kind}"
    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(table)
    else:
        clean: list[list[str]] = [[_printable(c) for c in row] or [""] for row in table]
        if kind == "xlsx":
            write_xlsx(path, [list(r) for r in clean])
        else:
            write_docx(path, [[list(r) for r in clean]] if clean else ["(trống)"])
    read_or_refuse(store, path, create)
