"""Reading what people type in Zalo: numbered answers, task codes, link codes."""

from __future__ import annotations

import pytest

from dondoc.chat_links import INVITE_ALPHABET
from notifiers.zalo_parsing import Answer, confirmation, parse_answer, parse_start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", Answer("ack", "", None)),
        ("Đã nhận", Answer("ack", "", None)),
        ("2", Answer("done", "", None)),
        ("xong", Answer("done", "", None)),
        (
            "3 Chờ ý kiến Bộ, đến 30/06/2026",
            Answer("extension", "Chờ ý kiến Bộ, đến 30/06/2026", None),
        ),
        ("3. Chờ ý kiến Bộ", Answer("extension", "Chờ ý kiến Bộ", None)),
        ("4 Chậm do thiếu kinh phí", Answer("explanation", "Chậm do thiếu kinh phí", None)),
        ("2 #15", Answer("done", "", 15)),
        ("#15 1", Answer("ack", "", 15)),
    ],
)
def test_numbered_and_worded_answers_are_read(text: str, expected: Answer) -> None:
    assert parse_answer(text) == expected


@pytest.mark.parametrize("text", ["12", "5 việc", "Chào cả nhà", "2022 là năm", ""])
def test_other_text_is_not_an_answer(text: str) -> None:
    assert parse_answer(text) is None


def test_a_link_code_is_read_with_or_without_start() -> None:
    code = INVITE_ALPHABET[:5] + "-" + INVITE_ALPHABET[5:10]
    assert parse_start(f"/start {code}") == (True, code)
    assert parse_start(code.lower()) == (True, code.replace("-", ""))
    assert parse_start("/start") == (True, None)
    # Ten characters outside the code alphabet (0, 1, O, I, L) are not a code.
    assert parse_start("12345-67890") == (False, None)
    assert parse_start("Xin chào bot") == (False, None)


def test_a_confirmation_is_yes_no_or_neither() -> None:
    assert confirmation("Đồng ý") is True
    assert confirmation("hủy") is False
    assert confirmation("để mai") is None
