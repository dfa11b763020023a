"""What dondoc refuses to read, and how it says where and what it expected."""

from __future__ import annotations

import unicodedata

import pytest

from rules.deadline import ParseError, parse_deadline

# phrase → (the fragment quoted, a part of the Vietnamese message, a part of the English one)
REFUSED = {
    "Tháng 13/2022": ("13", "cần số tháng từ 1 đến 12", "expected a month from 1 to 12"),
    "13/2022": ("13", "cần số tháng từ 1 đến 12", "expected a month from 1 to 12"),
    "3/15/2023": ("15", "cần số tháng từ 1 đến 12", "expected a month from 1 to 12"),
    "31/2/2023": ("31/2/2023", "từ 1 đến 28 (tháng 02/2023 có 28 ngày)", "02/2023 has 28 days"),
    "ngày 29/2/2023": ("29/2/2023", "tháng 02/2023 có 28 ngày", "has 28 days"),
    "Quý V/2023": ("V", "cần quý từ I đến IV", "expected a quarter from I to IV"),
    "Quý 0/2023": ("0", "cần quý từ I đến IV", "expected a quarter from I to IV"),
    "Tháng 12/22": ("22", "năm viết đủ 4 chữ số", "a four-digit year"),
    "Tháng 12/3023": ("3023", "năm từ 1900 đến 2199", "a year from 1900 to 2199"),
    "Tháng 3/2023, chậm nhất tháng 1/2023": (
        "chậm nhất tháng 1/2023",
        "hạn chậm nhất không sớm hơn mốc phấn đấu (31/03/2023)",
        "a latest date no earlier than the target (31 March 2023)",
    ),
    "Giai đoạn 2025 - 2023": (
        "Giai đoạn 2025 - 2023",
        "mốc đầu sớm hơn mốc cuối",
        "a start before the end",
    ),
    "Đầu năm 2024": ("Đầu năm 2024", "một mốc cụ thể", "a precise point"),
    "giữa năm 2024": ("giữa năm 2024", "một mốc cụ thể", "a precise point"),
    "khoảng tháng 6/2023": ("khoảng tháng 6/2023", "một mốc cụ thể", "a precise point"),
    "mid-2023": ("mid-2023", "một mốc cụ thể", "a precise point"),
    "Hàng tuần": ("Hàng tuần", "một chu kỳ chia đều năm", "a period that divides the year"),
    "daily": ("daily", "chưa được hỗ trợ", "not supported"),
    "2 năm một lần": ("2 năm một lần", "chưa được hỗ trợ", "not supported"),
    "ngày 32 hàng tháng": ("32", "số ngày từ 1 đến 31", "a day from 1 to 31"),
    "ngày 20 hằng quý": ("ngày 20 hằng quý", "tháng nào trong quý", "which month of the quarter"),
    "Hàng quý, ngày 15": ("ngày 15", "tháng nào trong quý", "which month of the quarter"),
    "hàng quý, trước ngày 20 hàng tháng": (
        "hàng quý, trước ngày 20 hàng tháng",
        "chu kỳ và ngày hạn khớp nhau",
        "a period and a day rule that agree",
    ),
    # Months a frequency cannot hold ("ngày 15/5 và 15/12 hằng năm" is two yearly dates).
    "6 tháng một lần, ngày 15/5 và 15/12": (
        "ngày 15/5 và 15/12",
        "các tháng cách đều nhau",
        "months evenly spaced",
    ),
    "ngày 15/6 và 20/12 hằng năm": ("20", "cùng một ngày", "the same day"),
    "Quyết định số 468/QĐ-TTg ngày 27/3/2021": (
        "Quyết định số 468/QĐ-TTg ngày 27/3/2021",
        "ngày ghi kèm số hiệu văn bản là ngày ban hành, không phải thời hạn",
        "the date next to a document number is the day it was issued",
    ),
    "Kế hoạch số 256/KH-UBND ngày 26/01/2022": (
        "Kế hoạch số 256/KH-UBND ngày 26/01/2022",
        "không phải tên văn bản",
        "not a document",
    ),
    "Theo tiến độ": ("Theo tiến độ", "tên văn bản, đề án hoặc sự việc", "the document, project"),
    "Sau khi": ("Sau khi", "tên văn bản, đề án hoặc sự việc", "the document, project"),
    "Tháng 12/2022 abc": ("abc", "cần hết cụm từ", "expected the end of the phrase"),
    "abc": ("abc", "cần một thời hạn, ví dụ “Tháng 12/2022”", "expected a deadline"),
    "Tháng 6/2023 (Quý II/2023)": ("Quý II/2023", "một thời hạn duy nhất", "a single deadline"),
    "Tháng 12/2022 (chưa đóng": ("(", "dấu đóng ngoặc", "a closing bracket"),
    "Tháng 12/2022 (báo cáo trước 15/12)": (
        "báo cáo trước 15/12",
        "một mốc thời gian dondoc đọc được trong ngoặc",
        "a date in brackets that dondoc can read",
    ),
    "Trong năm 2022, sau khi có hướng dẫn, chậm nhất 15/12/2022": (
        "chậm nhất 15/12/2022",
        "hạn chậm nhất không sớm hơn mốc phấn đấu (31/12/2022)",
        "no earlier than the target",
    ),
    "Tháng 12/2022 và các quý tiếp theo": ("quý", "cùng một loại kỳ", "the same kind of period"),
    "trước giai đoạn 2023 - 2025": (
        "trước giai đoạn 2023 - 2025",
        "một mốc cụ thể sau “trước”",
        "a single point after “before”",
    ),
}


@pytest.mark.parametrize(("phrase", "refusal"), list(REFUSED.items()), ids=list(REFUSED))
def test_a_phrase_dondoc_cannot_read_is_refused_with_where_and_what(
    phrase: str, refusal: tuple[str, str, str]
) -> None:
    fragment, vietnamese, english = refusal

    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)

    error = caught.value
    assert error.fragment == fragment
    assert error.phrase[error.position :].startswith(fragment)
    assert vietnamese in str(error)
    assert str(error) == error.message("vi")
    assert english in error.message("en")


# A phrase that stops too early: the error points at its end.
CUT_SHORT = {
    "15/3": "năm viết đủ 4 chữ số",
    "Tháng 12": "năm viết đủ 4 chữ số",
    "Quý II": "năm viết đủ 4 chữ số",
    "Tháng 11/2022, chậm nhất": "một mốc thời gian",
}


@pytest.mark.parametrize(("phrase", "vietnamese"), list(CUT_SHORT.items()), ids=list(CUT_SHORT))
def test_a_phrase_that_stops_too_early_is_refused_at_its_end(phrase: str, vietnamese: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)

    assert caught.value.position == len(phrase)
    assert "ở cuối cụm từ" in str(caught.value)
    assert vietnamese in str(caught.value)


@pytest.mark.parametrize("blank", ["", "   ", "\u00a0\u200b"])
def test_a_blank_phrase_is_refused(blank: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(blank)

    assert str(caught.value).startswith("Thời hạn đang để trống: cần một thời hạn")
    assert caught.value.message("en").startswith("The deadline is empty: expected a deadline")


def test_the_message_names_the_phrase_the_fragment_and_its_position_in_each_language() -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline("Tháng 13/2022")

    assert str(caught.value) == (
        "Chưa hiểu thời hạn “Tháng 13/2022”: tại “13” (ký tự thứ 7) cần số tháng từ 1 đến 12."
    )
    assert caught.value.message("en") == (
        "Cannot read the deadline “Tháng 13/2022”: at “13” (character 7) expected a month"
        " from 1 to 12."
    )
    assert caught.value.position == 6


def test_the_position_of_an_error_in_nfd_text_points_into_the_phrase_as_read() -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(unicodedata.normalize("NFD", "Thường xuyên, Tháng 13/2022"))

    assert caught.value.phrase == "Thường xuyên, Tháng 13/2022"
    assert caught.value.fragment == "13"
    assert caught.value.position == 20


def test_a_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Chưa hiểu thời hạn"):
        parse_deadline("Quý V/2023")
