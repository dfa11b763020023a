"""The CLI imports a sub-command only to run it, and lists every one of them correctly.

Which modules a command imports is a property of the code, not a timing: checked in a
real `python -m dondoc` process through `sys.modules`. How fast that makes the CLI start
is measured in bench/bench_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
import typer.main
from conftest import Cli

import dondoc.cli as cli
from dondoc.cli.lazy import LazyGroup

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "openpyxl", "fastapi", "telegram", "aiosmtplib")
# What `dondoc preview` needs besides the store: not the migrations machinery (a current
# store is recognised by one query), the console library, the template engine (it renders
# nothing), nor any channel or web app.
NOT_FOR_PREVIEW = ("alembic", "rich", "jinja2", "openpyxl", "fastapi", "telegram", "aiosmtplib")

# Runs the real entry point (`python -m dondoc …`) and reports, at exit, what was imported.
_PROBE = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["dondoc", *sys.argv[1:]]
runpy.run_module("dondoc", run_name="__main__", alter_sys=True)
"""


def _imported(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=60, env=env
    )
    modules = json.loads(result.stderr.strip().splitlines()[-1])
    return result, {name.partition(".")[0] for name in modules}


@pytest.mark.parametrize(
    "args",
    [("--help",), ("rules", "explain", "trước ngày 15/6/2023")],
    ids=["help", "rules-explain"],
)
def test_commands_that_need_no_store_do_not_import_it(args: tuple[str, ...]) -> None:
    result, top_level = _imported(*args)
    assert result.returncode == 0, result.stderr
    assert "dondoc" in top_level  # the probe saw the real run
    assert sorted(top_level & set(HEAVY)) == []


def test_a_store_command_imports_what_it_needs_on_demand() -> None:
    # The same probe sees the store library once a command needs it: the check above
    # is not blind. (`status` without a store fails cleanly, after importing it.)
    _result, top_level = _imported("status")
    assert "sqlalchemy" in top_level


def test_preview_imports_the_store_but_not_the_migrations_or_the_console(
    initialized_cli: Cli,
) -> None:
    args = ("preview", "--from", "2023-03-01", "--to", "2023-03-31")
    result, top_level = _imported(*args, env=initialized_cli.env)
    assert result.returncode == 0, result.stderr
    assert "Xem trước lời nhắc 2023-03-01 → 2023-03-31" in result.stdout
    assert "sqlalchemy" in top_level
    assert sorted(top_level & set(NOT_FOR_PREVIEW)) == []
    # The first run asked the holidays package and kept its answer for the next runs.
    assert "holidays" in top_level
    again, top_level = _imported(*args, env=initialized_cli.env)
    assert again.stdout == result.stdout
    assert sorted(top_level & {"holidays", *NOT_FOR_PREVIEW}) == []


def test_preview_on_an_outdated_store_asks_for_init_through_alembic(
    initialized_cli: Cli,
) -> None:
    store = sa.create_engine(f"sqlite:///{initialized_cli.env['DONDOC_DATA_DIR']}/dondoc.db")
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0008'"))
    store.dispose()
    result, top_level = _imported("preview", env=initialized_cli.env)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "Lỗi: Cơ sở dữ liệu chưa được khởi tạo hoặc cần nâng cấp: hãy chạy `dondoc init`.\n"
    )
    assert "alembic" in top_level  # the quick check deferred to alembic, as it must


def _help(group: LazyGroup, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    group.main([*args, "--help"], prog_name="dondoc", standalone_mode=False)
    return capsys.readouterr().out


def test_the_lazy_help_is_the_help_of_the_loaded_commands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    lazy = typer.main.get_group(cli.app)
    loaded = typer.main.get_group(cli.app)
    if not isinstance(lazy, LazyGroup) or not isinstance(loaded, LazyGroup):
        pytest.fail("the root group is not lazy")
    for name in cli.COMMANDS:
        loaded.load(name)
    # Every entry names a real command (or group) under the name it is listed as.
    assert sorted(loaded.commands) == sorted(cli.COMMANDS)
    assert all(command.name == name for name, command in loaded.commands.items())
    assert _help(lazy, capsys) == _help(loaded, capsys)
    for name, entry in cli.COMMANDS.items():
        assert entry.help in " ".join(_help(lazy, capsys).split()), name


def test_a_group_lists_its_commands_once_loaded(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    group = typer.main.get_group(cli.app)
    if not isinstance(group, LazyGroup):
        pytest.fail("the root group is not lazy")
    agency = _help(group, capsys, "agency")
    # `agency link` is defined with the web links and registered with its group.
    for command in ("invite", "members", "link"):
        assert f" {command} " in agency
