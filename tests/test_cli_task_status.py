"""What `task show`, `tasks`, `plan list`, `init` and `--version` tell an officer."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import EXAMPLE_PLAN, Cli
from sqlmodel import select

from dondoc.models import Agency, Assignment, ExtensionRequest
from dondoc.store import make_engine, session_scope


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One store with the example plan; each test changes a task of its own."""
    home = tmp_path_factory.mktemp("task-status")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    for args in (("init",), ("plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
    return cli


def _lead_line(shown: str, agency: str) -> str:
    return next(line for line in shown.splitlines() if f"[{agency}]" in line)


def test_an_acknowledgement_reads_as_received_only_until_it_lapses(shared: Cli) -> None:
    cli = shared
    acked = cli("--now", "2022-12-01T09:00", "task", "ack", "nq131/13", "--agency", "so-khcn")
    assert acked.exit_code == 0, acked.stderr
    assert acked.stdout.strip() == "Nhiệm vụ #13, so-khcn: đã nhận."

    # The preview agrees: the monthly "target missed" repeat of 31/12 is silenced until
    # the acknowledgement lapses on 15/01/2023; then the repeats resume.
    preview = cli(
        "--now", "2022-12-01T10:00", "preview", "--from", "2022-12-01", "--to", "2023-01-31",
        "--plan", "nq131", "--agency", "so-khcn", "--json",
    )  # fmt: skip
    assert preview.exit_code == 0, preview.stderr
    repeats = [
        (r["send_at"][:10], r["repeat"])
        for r in json.loads(preview.stdout)
        if r["task"]["number"] == "13" and r["stage"] == "target_missed" and r["repeat"] > 0
    ]
    assert repeats and all(day >= "2023-01-15" for day, _ in repeats), repeats

    within = cli("--now", "2022-12-20", "task", "show", "nq131/13")
    line = _lead_line(within.stdout, "so-khcn")
    assert "— đã nhận (dừng nhắc lặp lại đến 15/01/2023 09:00)" in line

    lapsed = cli("--now", "2023-01-16", "task", "show", "nq131/13")
    line = _lead_line(lapsed.stdout, "so-khcn")
    assert "đã nhận" not in line.replace("xác nhận đã nhận lúc", "")
    assert "— chưa xong (xác nhận đã nhận lúc 01/12/2022 09:00 đã hết hiệu lực" in line
    listed = cli("--now", "2023-01-16", "tasks", "--status", "acknowledged", "--json")
    assert json.loads(listed.stdout) == []
    still = cli("--now", "2022-12-20", "tasks", "--status", "acknowledged", "--json")
    assert [t["number"] for t in json.loads(still.stdout)] == ["13"]


def test_task_show_says_how_the_deadline_was_understood_and_the_approved_extension(
    shared: Cli,
) -> None:
    cli = shared
    engine = make_engine(f"sqlite:///{Path(cli.env['DONDOC_DATA_DIR']) / 'dondoc.db'}")
    with session_scope(engine) as session:
        lead = session.exec(
            select(Assignment)
            .join(Agency)
            .where(Agency.code == "so-khcn", Assignment.task_id == 14, Assignment.role == "lead")
        ).one()
        request = ExtensionRequest(
            assignment_id=lead.id or 0,
            requested_by="Sở KH&CN",
            reason="Chờ kinh phí",
            proposed_due=date(2023, 6, 30),
            created_at=datetime(2023, 3, 1, 2, 0, tzinfo=UTC),
        )
        session.add(request)
        session.flush()
        request_id = request.id
    engine.dispose()
    approved = cli("--now", "2023-03-02T10:00", "extension", "approve", str(request_id))
    assert approved.exit_code == 0, approved.stderr

    shown = cli("--now", "2023-03-03", "task", "show", "nq131/14").stdout.splitlines()
    assert "  hiểu là: Phấn đấu hoàn thành ngày 30/11/2022, hạn chót ngày 31/03/2023." in shown
    assert "      gia hạn đã duyệt: hạn mới 30/06/2023, duyệt 02/03/2023 10:00" in shown
    assert "      hạn đang áp dụng: 30/06/2023" in shown


def test_the_task_table_has_a_status_column(shared: Cli) -> None:
    cli = shared
    assert cli("task", "done", "nq131/20", "--agency", "vp-ubnd").exit_code == 0
    assert cli("task", "done", "nq131/22", "--agency", "so-noi-vu").exit_code == 0
    table = cli("tasks", "--plan", "nq131").stdout
    assert "Trạng thái" in table
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line[:1] == "│"}
    assert "đã hoàn thành" in rows["20"]
    assert "1/20 xong" in rows["22"]  # 20 lead agencies, one done
    assert "chưa xong" in rows["12"]


def test_plan_list_is_plans(shared: Cli) -> None:
    listed = shared("plan", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout == shared("plans", "--json").stdout
    assert [p["code"] for p in json.loads(listed.stdout)] == ["nq131"]


def test_init_twice_with_the_same_directory_says_nothing_changed(cli: Cli, tmp_path: Path) -> None:
    agencies = Path(__file__).resolve().parent.parent / "examples" / "agencies.yaml"
    first = cli("init", "--agencies", str(agencies))
    assert "24 cơ quan mới, 0 cập nhật" in first.stdout
    second = cli("init", "--agencies", str(agencies))
    assert second.exit_code == 0, second.stderr
    assert "không có gì thay đổi" in second.stdout
    assert "cập nhật" not in second.stdout
    edited = tmp_path / "agencies.yaml"
    edited.write_text(
        agencies.read_text(encoding="utf-8").replace("Sở Nội vụ", "Sở Nội vụ tỉnh", 1),
        encoding="utf-8",
    )
    third = cli("agencies", "load", str(edited))
    assert "0 cơ quan mới, 1 cập nhật" in third.stdout


def test_version_prints_the_installed_version(cli: Cli) -> None:
    from importlib.metadata import version

    result = cli("--version")
    assert (result.exit_code, result.stdout.strip()) == (0, f"dondoc {version('dondoc')}")
