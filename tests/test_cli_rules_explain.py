"""`dondoc rules explain`: what a person reads, what a script gets, and how bad input is told."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dondoc import cli
from dondoc.cli import rules_cmd

RUNNER = CliRunner()


def explain(*args: str) -> str:
    result = RUNNER.invoke(cli.app, ["rules", "explain", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


FOR_PEOPLE = {
    "a recurrence in Vietnamese": (
        ["Hàng quý", "--after", "2023-05-01"],
        "Định kỳ hằng quý, hạn là ngày cuối cùng của quý.\n"
        "Các hạn tiếp theo (từ 01/05/2023): 30/06/2023, 30/09/2023, 31/12/2023, 31/03/2024,"
        " 30/06/2024, 30/09/2024\n",
    ),
    "a recurrence in English": (
        ["trước ngày 20 tháng cuối quý", "--after", "2023-06-19", "--lang", "en"],
        "Recurring every quarter, due on day 19 of the quarter's last month.\n"
        "Next due dates (from 19 June 2023): 19 June 2023, 19 September 2023,"
        " 19 December 2023, 19 March 2024, 19 June 2024, 19 September 2024\n",
    ),
    "a target and a latest date": (
        ["Tháng 11/2022, chậm nhất tháng 3/2023", "--after", "2022-10-01"],
        "Phấn đấu hoàn thành ngày 30/11/2022, hạn chót ngày 31/03/2023.\n"
        "Các hạn tiếp theo (từ 01/10/2022): 31/03/2023\n",
    ),
    "a deadline already past": (
        ["Tháng 12/2022", "--after", "2023-01-01"],
        "Hạn chót ngày 31/12/2022.\nHạn này đã qua so với ngày 01/01/2023.\n",
    ),
    "a deadline already past, in English": (
        ["Tháng 12/2022", "--after", "2023-01-01", "--lang", "en"],
        "Due by 31 December 2022.\nThis deadline had passed by 1 January 2023.\n",
    ),
    "a recurrence that has ended": (
        ["Hàng năm, giai đoạn 2023 - 2025", "--after", "01/01/2026"],
        "Định kỳ hằng năm, hạn là ngày 31/12; từ ngày 01/01/2023, lần đầu ngày 31/12/2023,"
        " lần cuối ngày 31/12/2025.\n"
        "Không còn hạn nào từ ngày 01/01/2026.\n",
    ),
    "ongoing work": (
        ["Thường xuyên", "--after", "2023-01-01"],
        "Thực hiện thường xuyên, không có hạn chót cố định; nhắc việc theo lịch kiểm tra"
        " định kỳ.\nKhông có ngày hạn cụ thể.\n",
    ),
    "an external milestone in English": (
        ["Theo tiến độ của Đề án 06", "--after", "2023-01-01", "--lang", "en"],
        "No date yet: it depends on “Đề án 06” and will be set once that milestone is known.\n"
        "No fixed due date.\n",
    ),
}


@pytest.mark.parametrize(("args", "shown"), list(FOR_PEOPLE.values()), ids=list(FOR_PEOPLE))
def test_a_person_reads_how_the_phrase_was_understood_and_the_next_dates(
    args: list[str], shown: str
) -> None:
    assert explain(*args) == shown


AS_JSON = {
    "a recurrence: due is the first date on or after --after": (
        ["Hàng quý", "--after", "2023-05-01"],
        {
            "phrase": "Hàng quý",
            "kind": "recurring",
            "start": None,
            "target": None,
            "due": "2023-06-30",
            "occurrences": [
                "2023-06-30",
                "2023-09-30",
                "2023-12-31",
                "2024-03-31",
                "2024-06-30",
                "2024-09-30",
            ],
            "depends_on": None,
            "note": None,
        },
    ),
    "a bounded recurrence near its end": (
        ["Hàng năm, giai đoạn 2023 - 2025", "--after", "2024-06-01"],
        {
            "phrase": "Hàng năm, giai đoạn 2023 - 2025",
            "kind": "recurring",
            "start": "2023-01-01",
            "target": None,
            "due": "2024-12-31",
            "occurrences": ["2024-12-31", "2025-12-31"],
            "depends_on": None,
            "note": None,
        },
    ),
    "a target and a latest date": (
        ["Tháng 11/2022, chậm nhất tháng 3/2023", "--after", "2023-05-01"],
        {
            "phrase": "Tháng 11/2022, chậm nhất tháng 3/2023",
            "kind": "once",
            "start": None,
            "target": "2022-11-30",
            "due": "2023-03-31",
            "occurrences": ["2023-03-31"],
            "depends_on": None,
            "note": None,
        },
    ),
    "a window": (
        ["Giai đoạn 2023 - 2025", "--after", "2023-05-01"],
        {
            "phrase": "Giai đoạn 2023 - 2025",
            "kind": "once",
            "start": "2023-01-01",
            "target": None,
            "due": "2025-12-31",
            "occurrences": ["2025-12-31"],
            "depends_on": None,
            "note": None,
        },
    ),
    "a condition": (
        ["Trong năm 2022 (sau khi …)", "--after", "2022-01-01"],
        {
            "phrase": "Trong năm 2022 (sau khi …)",
            "kind": "once",
            "start": None,
            "target": None,
            "due": "2022-12-31",
            "occurrences": ["2022-12-31"],
            "depends_on": None,
            "note": "sau khi …",
        },
    ),
    "ongoing work": (
        ["Thường xuyên", "--after", "2023-05-01"],
        {
            "phrase": "Thường xuyên",
            "kind": "ongoing",
            "start": None,
            "target": None,
            "due": None,
            "occurrences": [],
            "depends_on": None,
            "note": None,
        },
    ),
    "an external milestone": (
        ["Theo lộ trình Nghị định số 107/2021/NĐ-CP", "--after", "2023-05-01"],
        {
            "phrase": "Theo lộ trình Nghị định số 107/2021/NĐ-CP",
            "kind": "external",
            "start": None,
            "target": None,
            "due": None,
            "occurrences": [],
            "depends_on": "Nghị định số 107/2021/NĐ-CP",
            "note": None,
        },
    ),
}


@pytest.mark.parametrize(("args", "expected"), list(AS_JSON.values()), ids=list(AS_JSON))
def test_a_script_gets_one_json_object_with_exactly_the_agreed_keys(
    args: list[str], expected: dict[str, Any]
) -> None:
    assert json.loads(explain(*args, "--json")) == expected


def test_the_dates_start_today_in_vietnam_when_after_is_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules_cmd, "today", lambda: date(2023, 5, 1))

    shown = json.loads(explain("Hàng quý", "--json"))

    assert shown["due"] == "2023-06-30"


def test_today_is_a_date_near_the_system_clock() -> None:
    assert abs((rules_cmd.today() - date.today()).days) <= 1


# Bad input: arguments → a part of the message on stderr.
REFUSED = {
    "a phrase it cannot read": (
        ["Tháng 13/2022"],
        "Lỗi: Chưa hiểu thời hạn “Tháng 13/2022”: tại “13” (ký tự thứ 7) cần số tháng từ 1 đến 12.",
    ),
    "a phrase it cannot read, in English": (
        ["Tháng 13/2022", "--lang", "en"],
        "Cannot read the deadline “Tháng 13/2022”: at “13” (character 7) expected a month",
    ),
    "a phrase it cannot read, as JSON": (["Quý V/2023", "--json"], "cần quý từ I đến IV"),
    "an empty phrase": ([""], "Thời hạn đang để trống"),
    "an --after that is not a date": (
        ["Hàng quý", "--after", "tomorrow"],
        "--after 'tomorrow' không phải một ngày: hãy ghi theo dạng YYYY-MM-DD",
    ),
    "an --after that is not a date, in English": (
        ["Hàng quý", "--after", "2023-02-30", "--lang", "en"],
        "--after '2023-02-30' is not a date: use YYYY-MM-DD",
    ),
    "a language it does not speak": (
        ["Hàng quý", "--lang", "fr"],
        "--lang 'fr' không hợp lệ: dùng 'vi' hoặc 'en'.",
    ),
}


@pytest.mark.parametrize(("args", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_bad_input_is_told_on_stderr_with_exit_code_2_and_nothing_on_stdout(
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # cli.main is what turns a UserError into a message and an exit code.
    monkeypatch.setattr(sys, "argv", ["dondoc", "rules", "explain", *args])

    with pytest.raises(SystemExit) as caught:
        cli.main()

    out, err = capsys.readouterr()
    assert caught.value.code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_the_installed_command_exits_2_with_the_message_on_stderr() -> None:
    command = Path(sys.executable).with_name("dondoc")

    done = subprocess.run(
        [str(command), "rules", "explain", "Quý V/2023"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "Lỗi: Chưa hiểu thời hạn “Quý V/2023”: tại “V” (ký tự thứ 5) cần quý từ I đến IV."
    )


def test_several_dates_and_named_milestones_are_explained_with_their_dates() -> None:
    assert explain("Quý I/2026, Quý III/2026", "--after", "2026-01-01") == (
        "Gồm 2 thời hạn, đôn đốc lần lượt từng hạn: (1) Hạn chót ngày 31/03/2026;"
        " (2) Hạn chót ngày 30/09/2026.\n"
        "Các hạn tiếp theo (từ 01/01/2026): 31/03/2026, 30/09/2026\n"
    )
    assert explain("Sơ kết: Tháng 6/2026\nTổng kết: Tháng 12/2026", "--after", "2027-01-01") == (
        "Gồm 2 thời hạn, đôn đốc lần lượt từng hạn: (1) Sơ kết: hạn chót ngày 30/06/2026;"
        " (2) Tổng kết: hạn chót ngày 31/12/2026.\n"
        "Không còn hạn nào từ ngày 01/01/2027.\n"
    )
    assert explain("Từ năm 2026 trở đi", "--after", "2025-06-01") == (
        "Thực hiện thường xuyên kể từ ngày 01/01/2026, không có hạn chót cố định; trước ngày"
        " đó chưa phải thực hiện, từ ngày đó nhắc việc theo lịch kiểm tra định kỳ.\n"
        "Không có ngày hạn cụ thể.\n"
    )
