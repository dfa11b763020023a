"""A simulated run of the example plan for the report tests, and an HTML reader.

The store is filled the way the system fills it: the bundled directory and the example
plan imported on 1 November 2022, statuses changed through `dondoc.actions.set_status`
and explanations through `record_explanation`, each at an explicit moment.

What happened, by 30 April 2023:
- tasks 1, 5, 8, 9 (due 31/12/2022): everybody finished on 20/12/2022, except
  Sở Nội vụ, which finished task 1 on 10/01/2023 (10 days late), and Sở Tư pháp,
  which never finished tasks 1 and 8;
- task 3 (every quarter): every agency has reported through Q1 2023 (on 25/03/2023),
  except Sở Tư pháp, which reported Q4 2022 on 28/12/2022 and nothing since;
- task 13 (due 31/03/2023): Sở TT&TT has not finished, and explained why on 05/04/2023;
  task 14: Sở TT&TT finished on 10/04/2023 (10 days late); their coordinators finished
  in March.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Cli, CliResult
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.actions import set_status
from dondoc.cli import main
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, Assignment, Plan, Task
from dondoc.plan_import import import_plan
from dondoc.reports.explanations import record_explanation
from dondoc.store import make_engine, migrate, session_scope

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "nq131-phu-luc.csv"
IMPORTED_AT = datetime(2022, 11, 1, 8, 0, tzinfo=TZ)
EXPLANATION_13 = "Chờ Bộ TT&TT hướng dẫn kết nối; dự kiến hoàn thành tháng 5/2023."


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TZ)


def assignments(session: Session, number: str, agency: str | None = None) -> list[Assignment]:
    query = (
        select(Assignment)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(Plan.code == "nq131", Task.number == number, col(Assignment.active))
    )
    if agency is not None:
        query = query.where(Agency.code == agency)
    rows = list(session.exec(query).all())
    if not rows:
        raise LookupError(f"no assignment nq131/{number} {agency or ''}")
    return rows


def finish(session: Session, number: str, agency: str | None, when: datetime) -> None:
    for assignment in assignments(session, number, agency):
        set_status(session, assignment=assignment, status="done", actor="test", now=when)


def report_through(
    session: Session, number: str, agency: str | None, through: date, when: datetime
) -> None:
    # Recurring tasks record their progress as the last occurrence completed.
    for assignment in assignments(session, number, agency):
        assignment.done_through, assignment.done_at = through, when
        session.add(assignment)


def explain(session: Session, number: str, agency: str, text: str, when: datetime) -> None:
    [assignment] = assignments(session, number, agency)
    record_explanation(
        session,
        assignment=assignment,
        text=text,
        author=agency,
        via="paper",
        actor="test",
        now=when,
    )


def load_example(engine: Engine) -> None:
    """What `dondoc init` and `dondoc plan import` leave in a migrated store."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED_AT, plan_code="nq131")


def simulate(engine: Engine) -> None:
    """The example plan loaded into a migrated store, and the months described above."""
    load_example(engine)
    with session_scope(engine) as session:
        finish(session, "1", "so-noi-vu", at(2023, 1, 10))
        for number in ("1", "8"):
            for assignment in assignments(session, number):
                agency = session.get(Agency, assignment.agency_id)
                if agency and agency.code not in ("so-tu-phap", "so-noi-vu"):
                    set_status(
                        session,
                        assignment=assignment,
                        status="done",
                        actor="t",
                        now=at(2022, 12, 20),
                    )
        finish(session, "8", "so-noi-vu", at(2022, 12, 20))
        finish(session, "5", None, at(2022, 12, 20))
        finish(session, "9", None, at(2022, 12, 20))
        report_through(session, "3", None, date(2023, 3, 31), at(2023, 3, 25))
        report_through(session, "3", "so-tu-phap", date(2022, 12, 31), at(2022, 12, 28))
        finish(session, "13", "vp-ubnd", at(2023, 3, 1))
        for assignment in assignments(session, "14"):
            if assignment.role == "coordinator":
                set_status(
                    session, assignment=assignment, status="done", actor="t", now=at(2023, 3, 15)
                )
        finish(session, "14", "so-khcn", at(2023, 4, 10))
        explain(session, "13", "so-khcn", EXPLANATION_13, at(2023, 4, 5))


@pytest.fixture(scope="session", name="simulated_db")
def simulated_db_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated store, built once per test session; tests get copies."""
    path = tmp_path_factory.mktemp("simulated") / "dondoc.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    simulate(engine)
    # Closing every connection checkpoints the WAL into the file before it is copied.
    engine.dispose()
    return path


@pytest.fixture(name="store")
def store_fixture(simulated_db: Path, tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the simulated store (SQLite file) for one test."""
    copy = tmp_path / "dondoc.db"
    shutil.copyfile(simulated_db, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", name="example_db")
def example_db_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the example directory and plan, built once per test session."""
    path = tmp_path_factory.mktemp("example") / "dondoc.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    load_example(engine)
    engine.dispose()
    return path


@pytest.fixture(name="example_cli")
def example_cli_fixture(cli: Cli, example_db: Path) -> Cli:
    """The subprocess CLI of `cli`, its store a copy of the example store (what
    `initialized_cli` makes, without two interpreter start-ups per test)."""
    data_dir = Path(cli.env["DONDOC_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(example_db, data_dir / "dondoc.db")
    return cli


@dataclass
class InProcessCli:
    """The real `dondoc.cli.main` run in this process: same code, no interpreter start-up.

    Only the environment, argv and stdin it would get in a subprocess are set.
    """

    env: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str, input: str | None = None) -> CliResult:
        for name in list(os.environ):
            if name.startswith("DONDOC_"):
                self.monkeypatch.delenv(name)
        for name, value in self.env.items():
            if name.startswith("DONDOC_") or name in ("COLUMNS", "NO_COLOR"):
                self.monkeypatch.setenv(name, value)
        self.monkeypatch.setattr(sys, "argv", ["dondoc", *args])
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(input or ""))
        self.capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)


@pytest.fixture(name="dondoc")
def dondoc_fixture(
    example_cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> InProcessCli:
    """`dondoc …` in-process on a store holding the example plan."""
    return InProcessCli(example_cli.env, monkeypatch, capsys)


# --- Reading HTML back -----------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [*self.text_parts, *(child.text for child in self.children)]
        return " ".join(" ".join(parts).split())

    def iter(self) -> list[Element]:
        found = [self]
        for child in self.children:
            found.extend(child.iter())
        return found

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter()
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


_VOID = {"meta", "br", "hr", "img", "input", "link"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return
        raise AssertionError(f"closing </{tag}> without an opening tag")

    def handle_data(self, data: str) -> None:
        self.stack[-1].text_parts.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    open_tags = [e.tag for e in builder.stack[1:]]
    if open_tags:
        raise AssertionError(f"unclosed tags at the end of the document: {open_tags}")
    return builder.root
