"""The words of deadline phrases, Vietnamese and English, and what each one means.

A province that phrases a deadline differently usually needs a line here, not new
grammar. Entries are written as people write them; matching ignores case, diacritics
and spacing (see `Vocab`).
"""

from __future__ import annotations

from typing import Literal

from rules.deadline.tokens import Vocab, words

Relation = Literal["strict", "inclusive", "latest"]
Role = Literal["reference", "document", "condition"]
Position = int | Literal["last", "middle"]

# -- points in time ---------------------------------------------------------------
DAY_WORDS = words("ngày", "the")
MONTH_WORDS = words("tháng", "month", "t")
QUARTER_WORDS = words("quý", "quarter", "q")
YEAR_WORDS = words("năm", "year", "the year", "in the year", "calendar year")
# What may stand between a month, quarter or half and its year.
YEAR_LEADS = words("năm", "của năm", "year", "of", "of the year", "in", "in the year")
OF = words("của", "trong", "of", "of the", "in", "in the")
THE = words("the")
ORDINAL_SUFFIX = words("st", "nd", "rd", "th")
ORDINAL_LEAD = words("thứ")

_MONTH_SPELLINGS = (
    "january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul",
    "august aug", "september sep sept", "october oct", "november nov", "december dec",
)  # fmt: skip
MONTH_NAMES = Vocab(
    {name: n for n, names in enumerate(_MONTH_SPELLINGS, 1) for name in names.split()}
)

# "Quý Tư", "quý thứ hai", "the second quarter".
QUARTER_NUMERALS = Vocab({"một": 1, "nhất": 1, "hai": 2, "nhì": 2, "ba": 3, "bốn": 4, "tư": 4})
ORDINALS = Vocab(
    {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
     "4th": 4, "last": 4, "final": 4}
)  # fmt: skip
COUNT_WORDS = Vocab(
    {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "sáu": 6, "chín": 9, "mười hai": 12,
     "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12}
)  # fmt: skip

# "6 tháng đầu năm", "nửa cuối năm", "the first half of", "the last 6 months of".
MONTHS_NOUN = words("tháng", "months", "month")
HALF_NOUN = words("nửa", "half")
H_LETTER = words("h")
SIDES = Vocab(
    {"đầu": "first", "đầu tiên": "first", "cuối": "last", "sau": "last", "first": "first",
     "1st": "first", "second": "last", "2nd": "last", "last": "last", "latter": "last"}
)  # fmt: skip
# Before the number only English puts the side, and "sáu" (six) folds to "sau" (later).
SIDES_EN = Vocab(
    {"first": "first", "1st": "first", "second": "last", "2nd": "last", "last": "last",
     "latter": "last"}
)  # fmt: skip

# -- the relation of a clause to its point ------------------------------------------
TARGET_MARKS = words(
    "phấn đấu", "mục tiêu", "dự kiến", "aim", "aim for", "aim to", "aiming for", "target",
    "target date", "targeted", "ideally",
)  # fmt: skip
COMPLETE = words(
    "hoàn thành", "hoàn tất", "xong", "kết thúc", "thực hiện", "thực hiện xong", "triển khai",
    "ban hành", "trình", "complete", "completed", "completion", "to be completed",
    "be completed", "finish", "finished", "done", "deliver", "delivered", "submit", "submitted",
    "implement", "implemented",
)  # fmt: skip
_STRICT = ("trước", "before", "prior to", "earlier than")
_LATEST = (
    "chậm nhất", "chậm nhất là", "chậm nhất vào", "chậm nhất là vào", "chậm nhất trong",
    "chậm nhất đến", "chậm nhất đến hết", "muộn nhất", "muộn nhất là", "trễ nhất",
    "không muộn hơn", "không chậm hơn", "không quá", "hạn chót", "hạn chót là", "hạn cuối",
    "hạn cuối cùng", "thời hạn cuối cùng", "at the latest", "at latest", "latest", "latest by",
    "latest on", "latest in", "no later than", "not later than", "deadline", "final deadline",
)  # fmt: skip
_INCLUSIVE = (
    "trong", "vào", "đến", "đến hết", "tới", "tới hết", "từ nay đến", "từ nay đến hết",
    "từ nay tới", "hạn", "thời hạn", "by", "in", "during", "within", "until", "till", "through",
    "on", "on or before", "from now until", "from now to", "up to", "due", "due by", "due on",
    "due in",
)  # fmt: skip
RELATIONS: Vocab[Relation] = Vocab(
    {**dict.fromkeys(_STRICT, "strict"), **dict.fromkeys(_LATEST, "latest"),
     **dict.fromkeys(_INCLUSIVE, "inclusive")}
)  # fmt: skip
END_OF = words(
    "cuối", "hết", "ngày cuối cùng của", "ngày cuối của", "end of", "the end of", "end",
    "the last day of", "last day of", "close of", "the close of",
)  # fmt: skip
LATEST_POSTFIX = words("at the latest", "at latest", "là chậm nhất")
# Points that are not points: "đầu năm 2024" could be January or March.
VAGUE = words(
    "đầu", "giữa", "khoảng", "tầm", "early", "mid", "mid-", "beginning of", "the beginning of",
    "start of", "the start of", "middle of", "the middle of", "around", "about",
    "approximately", "approx", "circa", "sometime in",
)  # fmt: skip
CLAUSE_JOINS = words("và", "nhưng", "and", "but")
# Between the dates of one rule: "ngày 15/6 và 15/12 hằng năm".
LIST_JOINS = words("và", ",", "and")

# -- windows ------------------------------------------------------------------------
WINDOW_HEADS = words(
    "giai đoạn", "thời kỳ", "thời gian", "từ", "kể từ", "bắt đầu từ", "period", "the period",
    "from", "between",
)  # fmt: skip
RANGE_TO = words(
    "-", "đến", "đến hết", "tới", "tới hết", "to", "until", "till", "through", "and",
)  # fmt: skip

# -- ongoing and recurring ----------------------------------------------------------
ONGOING = words(
    "thường xuyên", "liên tục", "thường xuyên liên tục", "thường xuyên, liên tục",
    "thường xuyên và liên tục", "ongoing", "on-going", "continuous", "continuously",
    "continual", "continually", "regularly", "regular", "on an ongoing basis",
    "on a regular basis", "at all times",
)  # fmt: skip
RECURRING_LEADS = words("báo cáo", "thực hiện", "tổng hợp", "report", "reporting", "report back")
PERIODIC = words("định kỳ", "theo định kỳ", "periodic", "periodically", "on a periodic basis")
EVERY = words("mỗi", "hằng", "cứ", "every", "each")
ONCE = words("một lần", "1 lần", "/lần", "/1 lần", "once")
PERIOD_UNITS = Vocab(
    {"tháng": 1, "months": 1, "month": 1, "quý": 3, "quarters": 3, "năm": 12, "years": 12}
)


def _frequencies() -> Vocab[int]:
    # 0 marks periods dondoc does not schedule (daily, weekly): refused, never rounded.
    vi_periods = {"tháng": 1, "quý": 3, "nửa năm": 6, "năm": 12, "tuần": 0, "ngày": 0}
    entries: dict[str, int] = {}
    for noun, months in vi_periods.items():
        for every in ("hằng", "mỗi", "từng", "cuối mỗi", "cuối hằng"):
            if not (every.startswith("cuối") and months == 0):
                entries[f"{every} {noun}"] = months
        for once in ("một lần", "1 lần"):
            entries[f"{noun} {once}"] = months
            entries[f"{once} mỗi {noun}"] = months
        entries[f"1 lần/{noun}"] = months
        entries[f"theo {noun}"] = months
    for phrase in (
        "2 lần/năm", "2 lần mỗi năm", "hai lần mỗi năm", "2 lần một năm", "hai lần một năm",
        "twice a year", "twice yearly", "half-yearly", "half yearly", "semi-annually",
        "semiannually", "semi-annual", "semiannual", "biannually", "biannual", "every half year",
    ):  # fmt: skip
        entries[phrase] = 6
    for english, months in (("month", 1), ("quarter", 3), ("year", 12), ("week", 0), ("day", 0)):
        for every in ("every", "each", "once a", "once every", "per"):
            entries[f"{every} {english}"] = months
    entries |= {"monthly": 1, "quarterly": 3, "yearly": 12, "annually": 12, "annual": 12,
                "weekly": 0, "daily": 0, "fortnightly": 0, "biweekly": 0}  # fmt: skip
    return Vocab(entries)


FREQUENCIES = _frequencies()
# After a frequency, the coarser reports of the same cell: "6 tháng, năm".
COARSER_PERIODS = Vocab(
    {"năm": 12, "hằng năm": 12, "cả năm": 12, "6 tháng": 6, "sáu tháng": 6, "quý": 3,
     "hằng quý": 3, "year": 12, "yearly": 12, "annually": 12, "half-yearly": 6}
)  # fmt: skip

# Day rules: "trước ngày 20 tháng cuối quý", "before the 20th of each month".
LAST_DAY = words("cuối", "cuối cùng", "last", "final")
DAY_NOUN = words("day", "ngày")
ANCHOR_EVERY = Vocab(
    {**dict.fromkeys(("hằng tháng", "mỗi tháng", "các tháng", "từng tháng", "every month",
                      "each month", "monthly"), 1),
     **dict.fromkeys(("hằng quý", "mỗi quý", "từng quý", "every quarter", "each quarter",
                      "quarterly"), 3),
     **dict.fromkeys(("hằng năm", "mỗi năm", "từng năm", "every year", "each year",
                      "annually", "yearly"), 12)}
)  # fmt: skip
ANCHOR_EACH = words("mỗi", "hằng", "từng", "each", "every", "the")
NEXT_PERIOD = words("sau", "tiếp theo", "kế tiếp", "liền sau", "following", "next")
# "Năm 2022 và các năm tiếp theo": every period from that one on.
AND_THE = words("và các", "và những", "and", "and the", "and all")
FOLLOWING = words("tiếp theo", "sau đó", "kế tiếp", "sau", "following", "subsequent", "later")
PERIODS_PLURAL = Vocab({"tháng": 1, "quý": 3, "năm": 12, "months": 1, "quarters": 3, "years": 12})
POSITIONS: Vocab[Position] = Vocab(
    {"cuối": "last", "cuối cùng": "last", "last": "last", "final": "last", "đầu": 1,
     "đầu tiên": 1, "first": 1, "thứ nhất": 1, "giữa": "middle", "middle": "middle",
     "thứ hai": 2, "thứ 2": 2, "second": 2, "2nd": 2, "thứ ba": 3, "thứ 3": 3, "third": 3,
     "3rd": 3}
)  # fmt: skip
PERIOD_NOUNS = Vocab(
    {"quý": 3, "quarter": 3, "năm": 12, "year": 12, "nửa năm": 6, "6 tháng": 6,
     "sáu tháng": 6, "half-year": 6, "half year": 6, "half": 6}
)  # fmt: skip

# Bounds of a recurrence: "hằng quý, từ năm 2023", "monthly until 2025".
FROM_WORDS = words(
    "từ", "kể từ", "bắt đầu từ", "from", "starting", "starting from", "starting in", "since",
    "beginning", "beginning in",
)  # fmt: skip
UNTIL_WORDS: Vocab[Relation] = Vocab(
    {**dict.fromkeys(("đến", "đến hết", "tới", "tới hết", "until", "till", "through",
                      "up to", "to"), "inclusive"),
     **dict.fromkeys(("trước", "before"), "strict")}
)  # fmt: skip
IN_WORDS = words("trong", "in", "during", "throughout", "for")
# "Từ năm 2026 trở đi": from then on, with no end.
ONWARDS = words(
    "trở đi", "về sau", "trở về sau", "onwards", "onward", "on", "and after",
    "and beyond",
)  # fmt: skip

# -- notes and references -----------------------------------------------------------
# Words that add a note without changing a date; the note runs to the next comma.
NOTE_HEADS = words(
    "hoặc đột xuất", "và đột xuất", "đột xuất", "hoặc khi có yêu cầu", "và khi có yêu cầu",
    "khi có yêu cầu", "hoặc theo yêu cầu", "hoặc khi cần thiết", "khi cần thiết", "or ad hoc",
    "and ad hoc", "ad hoc", "or on request", "and on request", "on request",
    "or when requested", "or as needed", "and as needed", "as needed", "as required",
    "or as required",
)  # fmt: skip
# "theo tiến độ X" → X; "theo Kế hoạch riêng" → "Kế hoạch riêng"; "sau khi X" → X.
_REFERENCE_HEADS = (
    "theo tiến độ", "theo tiến độ của", "theo tiến độ thực hiện", "theo tiến độ thực hiện của",
    "theo lộ trình", "theo lộ trình của", "theo lộ trình thực hiện", "theo lộ trình tại",
    "theo tiến độ và lộ trình", "theo tiến độ, lộ trình", "theo thời gian", "theo thời hạn",
    "theo thời gian quy định tại", "theo thời hạn quy định tại", "theo thời gian của",
    "theo thời hạn của", "according to", "according to the schedule of",
    "according to the timeline of", "according to the roadmap of",
    "according to the progress of", "as per", "in line with", "in accordance with",
    "in step with", "pursuant to", "following the schedule of", "following the roadmap of",
    "following the timeline of", "following the progress of",
)  # fmt: skip
_CONDITION_HEADS = (
    "sau khi", "ngay sau khi", "khi", "khi có", "trước khi", "after", "upon", "when",
    "subject to", "depending on", "pending", "nếu", "trường hợp", "tùy theo", "tùy thuộc", "if",
    "unless",
)  # fmt: skip
EXTERNAL_HEADS: Vocab[Role] = Vocab(
    {**dict.fromkeys(_REFERENCE_HEADS, "reference"), "theo": "document",
     **dict.fromkeys(_CONDITION_HEADS, "condition")}
)  # fmt: skip
# After a bare "theo", the words that make it a reference ("theo quý" is quarterly).
REFERENCE_NOUNS = words(
    "kế hoạch", "quyết định", "nghị quyết", "nghị định", "đề án", "chương trình", "văn bản",
    "thông báo", "chỉ thị", "công văn", "thông tư", "luật", "hướng dẫn", "chỉ đạo", "yêu cầu",
    "quy định", "kết luận", "dự án", "tờ trình", "lịch", "the plan", "plan", "decision",
    "resolution", "decree", "project", "programme", "program", "schedule", "document",
    "circular", "directive", "law", "guidance", "instructions", "request", "regulations",
    "the schedule", "the decision", "the resolution", "the decree", "the project",
)  # fmt: skip
# A phrase that starts like this names a document; its date is an issue date.
DOCUMENT_NOUNS = words(
    "kế hoạch", "quyết định", "nghị quyết", "nghị định", "đề án", "chương trình", "văn bản",
    "thông báo", "chỉ thị", "công văn", "thông tư", "luật", "kết luận", "tờ trình", "decision",
    "resolution", "decree", "circular", "directive", "plan", "project", "programme", "program",
    "document",
)  # fmt: skip

# -- event-driven cells and labels ----------------------------------------------------
# Done when something happens; no date until the office sets one. The rest of the cell
# ("… của UBND tỉnh") says who asks or what arises.
EVENT_HEADS = words(
    "khi có yêu cầu", "khi được yêu cầu", "khi có yêu cầu của", "theo yêu cầu",
    "theo yêu cầu của", "khi phát sinh", "khi có phát sinh", "khi có nhiệm vụ phát sinh",
    "khi cần thiết", "khi cần", "đột xuất", "đột xuất khi có yêu cầu", "đột xuất theo yêu cầu",
    "khi có chỉ đạo", "theo chỉ đạo", "theo chỉ đạo của", "on request", "upon request",
    "when requested", "as requested", "if requested", "as needed", "when needed", "as required",
    "when required", "as and when required", "ad hoc",
)  # fmt: skip
# The column's header repeated in the cell: "Thời hạn: Quý III/2026".
LABELS = words(
    "thời hạn", "thời hạn hoàn thành", "thời hạn thực hiện", "thời gian", "thời gian thực hiện",
    "thời gian hoàn thành", "tiến độ", "tiến độ thực hiện", "tiến độ hoàn thành", "hạn",
    "hạn hoàn thành", "deadline", "due date", "timeline", "time frame", "timeframe",
    "completion", "completion date",
)  # fmt: skip
# "báo cáo về Sở Nội vụ": where a periodic report goes.
REPORT_LEADS = words("báo cáo", "gửi báo cáo", "report", "reporting", "send a report")
REPORT_TO = words("về", "cho", "lên", "gửi", "gửi về", "gửi cho", "to")
# Words that end an agency's name: a date or a period follows.
DATE_NOUNS = words("ngày", "tháng", "quý", "năm", "day", "month", "quarter", "year")


def known_phrases() -> list[str]:
    """Every entry of every vocabulary above, folded: the words fuzz tests build from."""
    found: set[str] = set()
    for value in globals().values():
        if isinstance(value, Vocab):
            found.update(" ".join(key) for key in value.table)
    return sorted(found)
