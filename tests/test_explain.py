"""`dondoc explain`: the office records an explanation received on paper or by email."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli
from report_scenario import (  # noqa: F401 (fixtures)
    InProcessCli,
    dondoc_fixture,
    example_cli_fixture,
    example_db_fixture,
)
from sqlalchemy.engine import Engine
from sqlmodel import select

from dondoc.models import AuditEntry, Explanation
from dondoc.store import make_engine, session_scope

TEXT = "Sở chờ hướng dẫn kỹ thuật của Bộ; sẽ hoàn thành trong tháng 5/2023."


@pytest.fixture
def store(example_cli: Cli) -> Iterator[Engine]:
    """The CLI's own store, opened beside it to see what was written."""
    path = Path(example_cli.env["DONDOC_DATA_DIR"]) / "dondoc.db"
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def explanations(engine: Engine) -> list[Explanation]:
    with session_scope(engine) as session:
        return list(session.exec(select(Explanation)).all())


def test_an_explanation_on_paper_is_recorded_and_shown_in_the_late_list(
    example_cli: Cli, store: Engine, tmp_path: Path
) -> None:
    # The real entry point in a subprocess, once; the other tests run it in-process.
    result = example_cli("explain", "nq131/13", "--agency", "so-khcn", "--text", TEXT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Đã ghi nhận giải trình của Sở Khoa học và Công nghệ về nhiệm vụ nq131/13 "
        "(nhận qua văn bản giấy)."
    )
    [row] = explanations(store)
    assert (row.text, row.author, row.via) == (TEXT, "Sở Khoa học và Công nghệ", "paper")
    with session_scope(store) as session:
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "assignment.explanation")
        ).all()
    assert [a.assignment_id for a in audit] == [row.assignment_id]

    out = tmp_path / "late.csv"
    result = example_cli("report", "late", "--month", "2023-04", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Đã ghi danh sách chậm muộn tháng 04/2023" in result.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    [item] = [r for r in rows if r["STT"] == "13" and r["Mã cơ quan"] == "so-khcn"]
    assert item["Giải trình"] == "Đã giải trình"
    assert item["Nội dung giải trình"] == TEXT
    others = [r for r in rows if not (r["STT"] == "13" and r["Mã cơ quan"] == "so-khcn")]
    assert others and all(r["Giải trình"] == "Chưa giải trình" for r in others)


def test_an_explanation_can_be_read_from_stdin_with_its_signer_and_channel(
    dondoc: InProcessCli, store: Engine
) -> None:
    letter = "Kính gửi Văn phòng UBND tỉnh,\n\nSở xin giải trình như sau: …\n"
    result = dondoc(
        "explain",
        "nq131/14",
        "--agency",
        "so-khcn",
        "--text",
        "-",
        "--via",
        "email",
        "--author",
        "Giám đốc Sở TT&TT",
        input=letter,
    )
    assert result.exit_code == 0, result.stderr
    assert "(nhận qua email)" in result.stdout
    [row] = explanations(store)
    assert row.text == "Kính gửi Văn phòng UBND tỉnh,\n\nSở xin giải trình như sau: …"
    assert (row.author, row.via) == ("Giám đốc Sở TT&TT", "email")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nq131/99", "--agency", "so-khcn", "--text", TEXT],
            "Lỗi: Không tìm thấy nhiệm vụ 'nq131/99'.",
        ),
        (
            ["nq131/13", "--agency", "so-khong-co", "--text", TEXT],
            "Lỗi: Không tìm thấy cơ quan 'so-khong-co'.",
        ),
        (
            ["nq131/13", "--agency", "so-y-te", "--text", TEXT],
            "Lỗi: Cơ quan 'so-y-te' không được giao nhiệm vụ",
        ),
        (
            ["nq131/13", "--agency", "so-khcn", "--text", "   "],
            "Lỗi: Nội dung giải trình đang để trống",
        ),
        (
            ["nq131/13", "--agency", "so-khcn", "--text", TEXT, "--via", "telegram"],
            "Lỗi: --via 'telegram' không hợp lệ: dùng paper hoặc email.",
        ),
    ],
    ids=["unknown task", "unknown agency", "agency not assigned", "empty text", "chat channel"],
)
def test_a_mistake_is_named_and_nothing_is_recorded(
    dondoc: InProcessCli, store: Engine, args: list[str], message: str
) -> None:
    result = dondoc("explain", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert explanations(store) == []
