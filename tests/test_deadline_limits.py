"""The parser is total and linear: any string gets a Deadline or a ParseError, never
another exception, with work that grows in proportion to its length.

Work is counted in the parser's own steps (`Meter`), not wall time: a count is exact
on a busy machine, and bench/bench_deadline.py shows the times.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import pytest
from conftest import Cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.bench_deadline import FAMILIES, phrase_of
from rules.deadline import (
    MAX_PHRASE_LENGTH,
    Deadline,
    ParseError,
    PhraseTooLong,
    parse_deadline,
)
from rules.deadline import words as vocabulary
from rules.deadline.parse import parse
from rules.deadline.tokens import Meter, tokenize

# -- impossible dates ---------------------------------------------------------------
IMPOSSIBLE = {
    "0/12/2022": "0/12/2022",
    "ngày 0 tháng 1 năm 2023": "0 tháng 1 năm 2023",
    "Trước ngày 0/12/2022": "0/12/2022",
    "2023-02-30": "30",
    "31/02/2023": "31/02/2023",
    "Giai đoạn 0/1/2023 - 2025": "0/1/2023",
    "Từ 0/1/2023 đến 2025": "0/1/2023",
    "Từ ngày 31/4 đến 2/5/2023": "31/4",
    "Từ 1/1/2023 đến 0/3/2023": "0/3/2023",
    "Giai đoạn 15/13/2023 - 2025": "13",
    "Tháng 11/2022, chậm nhất 0/3/2023": "0/3/2023",
    "Tháng 11/2022 (chậm nhất 31/2/2023)": "31/2/2023",
    "Hằng quý, từ ngày 0/1/2023": "0/1/2023",
    "Hằng năm, ngày 30/2": "30/2",
    "Tháng 13/2023": "13",
}


@pytest.mark.parametrize("phrase", IMPOSSIBLE)
def test_an_impossible_date_is_refused_where_it_stands(phrase: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)
    assert caught.value.fragment == IMPOSSIBLE[phrase]
    assert str(caught.value).startswith(f"Chưa hiểu thời hạn “{phrase}”")


def test_day_zero_says_which_days_the_month_has() -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline("Giai đoạn 0/1/2023 - 2025")
    assert "một ngày có thật, từ 1 đến 31 (tháng 01/2023 có 31 ngày)" in str(caught.value)
    assert "a real date, from 1 to 31" in caught.value.message("en")


def test_rules_explain_refuses_day_zero_without_a_traceback(cli: Cli) -> None:
    result = cli("rules", "explain", "0/12/2022")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "Chưa hiểu thời hạn “0/12/2022”" in result.stderr


def test_a_plan_with_impossible_or_overlong_deadlines_names_each_row(
    cli: Cli, tmp_path: Path
) -> None:
    overlong = "Tháng 12/2026 " + "(1/" * 200 + ")"
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm công việc,Thời gian hoàn thành\n"
        "1,A,Sở Nội vụ,,B,0/12/2026\n"
        "2,A,Sở Nội vụ,,B,Giai đoạn 0/1/2026 - 2030\n"
        f'3,A,Sở Nội vụ,,B,"{overlong}"\n',
        encoding="utf-8",
    )
    assert cli("init").exit_code == 0
    result = cli("plan", "import", str(plan), "--plan", "kh2")
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    assert "chưa nhập gì" in result.stderr
    assert "dòng 2, cột 'Thời gian hoàn thành': Chưa hiểu thời hạn “0/12/2026”" in result.stderr
    assert "dòng 3, cột 'Thời gian hoàn thành': Chưa hiểu thời hạn “Giai đoạn" in result.stderr
    assert "dòng 4, cột 'Thời gian hoàn thành': Thời hạn quá dài" in result.stderr


# -- length -------------------------------------------------------------------------
def test_a_phrase_over_the_cap_is_refused_in_vietnamese_without_being_read() -> None:
    phrase = "1/" * 50_000
    meter = Meter()
    with pytest.raises(PhraseTooLong) as caught:
        parse(phrase, meter=meter)
    assert meter.steps == 0
    message = str(caught.value)
    assert message.startswith(f"Thời hạn quá dài (100.000 ký tự; tối đa {MAX_PHRASE_LENGTH} ký tự)")
    assert "Xin ghi thời hạn ngắn gọn" in message
    assert len(message) < 300  # quotes the start, not the 100,000 characters
    assert "too long (100,000 characters" in caught.value.message("en")
    assert isinstance(caught.value, ParseError)  # callers need catch only ParseError


def test_a_long_phrase_at_the_cap_is_still_read() -> None:
    head = "Tháng 12/2022 (ghi chú: "
    phrase = head + "x" * (MAX_PHRASE_LENGTH - len(head) - 1) + ")"
    assert len(phrase) == MAX_PHRASE_LENGTH
    deadline = parse_deadline(phrase)
    assert deadline.kind == "once" and deadline.note is not None


def test_the_cap_counts_the_phrase_as_read_not_its_padding() -> None:
    deadline = parse_deadline("Tháng   12/2022" + " " * 1000)
    assert deadline.kind == "once"


# -- linear work --------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_phrases_below_the_cap_get_an_answer(family: str) -> None:
    phrase = phrase_of(FAMILIES[family], MAX_PHRASE_LENGTH)[:MAX_PHRASE_LENGTH]
    try:
        result: Deadline | ParseError = parse_deadline(phrase)
    except ParseError as exc:
        result = exc
    assert isinstance(result, Deadline | ParseError)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_work_doubles_when_a_hostile_phrase_doubles(family: str) -> None:
    counts = []
    for length in (1_000, 2_000, 4_000):
        meter = Meter()
        with suppress(ParseError):
            parse(phrase_of(FAMILIES[family], length), max_length=None, meter=meter)
        counts.append(meter.steps)
    assert counts[1] / counts[0] <= 2.2 and counts[2] / counts[1] <= 2.2, counts


def test_the_tokenizer_scans_a_run_of_numbers_once() -> None:
    # The document-number pattern used to be retried at every number of "1/1/1/…",
    # rescanning the rest each time: 275 s for 50,000 repeats.
    short, long = Meter(), Meter()
    tokenize("1/" * 5_000, short)
    tokenize("1/" * 10_000, long)
    assert long.steps <= 2 * short.steps + 10
    assert short.steps <= 3 * len("1/" * 5_000)


def test_a_document_number_is_still_one_token() -> None:
    tokens = tokenize("theo 107/2021/nđ-cp, 2023-q2, 1/1/1")
    assert [t.kind for t in tokens] == [
        "word", "docref", "comma", "num", "sep", "word", "num", "comma", "num", "sep", "num",
        "sep", "num",
    ]  # fmt: skip


def test_a_phrase_that_exhausts_the_budget_is_refused_politely() -> None:
    with pytest.raises(ParseError) as caught:
        parse("Tháng 12/2022 " + "(x) " * 20, meter=Meter(budget=200))
    assert "quá nhiều cách đọc" in str(caught.value)
    assert "too many readings" in caught.value.message("en")


def test_real_phrases_stay_far_below_the_budget() -> None:
    meter = Meter()
    phrase = "Thường xuyên; định kỳ hằng quý, trước ngày 15 tháng cuối quý (theo Đề án 06)"
    parse(phrase, meter=meter)
    assert meter.steps < 50 * len(phrase)


# -- fuzz ---------------------------------------------------------------------------
PIECES = st.sampled_from(
    [*vocabulary.known_phrases(), "2023", "2026", "12", "13", "0", "00", "29", "30", "31",
     "32", "15", "II", "IV", "V", "/", "-", "–", ".", ",", ";", ":", "(", ")", "[", "…", "1/",
     "NQ-CP", "Sở Nội vụ", "\n", "\u200b", "²", "٣"]
)  # fmt: skip
GRAMMAR_SOUP = st.lists(PIECES, max_size=60).map(" ".join)


def _total(text: str) -> None:
    try:
        deadline = parse_deadline(text)
    except ParseError as error:
        assert 0 <= error.position <= len(error.phrase)
        assert str(error) and error.message("en")
    else:
        assert Deadline.from_dict(deadline.to_dict()) == deadline
        assert deadline.describe() and deadline.describe("en")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=MAX_PHRASE_LENGTH + 20) | GRAMMAR_SOUP)
@example("0/12/2022")
@example("Giai đoạn 0/1/2023 - 2025")
@example("1/" * 249)
@example("(" * 499)
@example("Thường xuyên; định kỳ 6 tháng báo cáo về Sở Nội vụ (")
def test_any_unicode_or_any_soup_of_the_grammars_words_is_read_or_refused(text: str) -> None:
    _total(text)
