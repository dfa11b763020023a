"""What dondoc knows about Vietnamese administrative names before it sees any directory.

The bottom of the name reading: the compared form of a name (`name_key`), the head words
that open a new name, the official names that contain commas or "và", and the phrases
that name nobody in particular. Grammar (name_grammar) and lookup (names) build on it.
"""

from __future__ import annotations

import functools
import re

from rules.text import fold_words

# Abbreviations officials write interchangeably with the full words.
_ABBREVIATIONS = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "vp": "van phong",
    "tt": "trung tam",
    "kh": "ke hoach",
    "dt": "dau tu",
    "tttt": "thong tin va truyen thong",
    "khcn": "khoa hoc va cong nghe",
    "ldtbxh": "lao dong thuong binh va xa hoi",
    "gtvt": "giao thong van tai",
    "tnmt": "tai nguyen va moi truong",
    "nnptnt": "nong nghiep va phat trien nong thon",
    "nnmt": "nong nghiep va moi truong",
    "vhttdl": "van hoa the thao va du lich",
    "gddt": "giao duc va dao tao",
    "mttq": "mat tran to quoc",
    "bchqs": "bo chi huy quan su",
    "bhxh": "bao hiem xa hoi",
}
_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b")

# Words that open the name of an agency, in `name_key` form, longest first. Two names
# written one after the other without a separator ("Sở Y tế Sở Giáo dục và Đào tạo")
# are told apart by these.
HEAD_WORDS = tuple(
    sorted(
        (
            "so",
            "ban",
            "van phong",
            "uy ban nhan dan",
            "cong an",
            "bo chi huy quan su",
            "bo chi huy bo doi bien phong",
            "trung tam",
            "dai",
            "bao",
            "kho bac",
            "bao hiem xa hoi",
            "cuc",
            "chi cuc",
            "vien",
            "truong",
            "hoi",
            "lien doan",
            "uy ban mat tran to quoc",
            "mat tran to quoc",
            "tinh doan",
            "thanh tra",
            "toa an nhan dan",
            "vien kiem sat nhan dan",
            "benh vien",
            "lien minh hop tac xa",
        ),
        key=len,
        reverse=True,
    )
)

# Official names that hold a comma, a dash or "và": without them, "Sở Văn hóa, Thể thao
# và Du lịch" would read as three names. Names of 2025 and of before (plans of both
# kinds are tracked).
OFFICIAL_NAMES = (
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Văn hóa và Thể thao",
    "Sở Du lịch",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài nguyên và Môi trường",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Nông nghiệp và Môi trường",
    "Sở Thông tin và Truyền thông",
    "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo",
    "Sở Dân tộc và Tôn giáo",
    "Sở Giao thông vận tải",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Xây dựng",
    "Sở Y tế",
    "Sở Ngoại vụ",
    "Ban Dân tộc",
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Đài Phát thanh - Truyền hình tỉnh",
    "Trung tâm Phục vụ hành chính công",
    "Ban Quản lý các khu công nghiệp",
    "Ban Quản lý Khu kinh tế",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Bộ Chỉ huy Bộ đội Biên phòng tỉnh",
    "Kho bạc Nhà nước",
    "Bảo hiểm xã hội tỉnh",
    "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
    "Liên đoàn Lao động tỉnh",
    "Hội Liên hiệp Phụ nữ tỉnh",
    "Hội Nông dân tỉnh",
    "Hội Cựu chiến binh tỉnh",
    "Liên minh Hợp tác xã tỉnh",
    "Tỉnh đoàn",
    "Thường trực Hội đồng nhân dân tỉnh",
    "Ủy ban Kiểm tra Tỉnh ủy",
    "Chi cục Thống kê tỉnh",
    "Cục Thống kê tỉnh",
    "Cục Thuế tỉnh",
    "Ngân hàng Nhà nước chi nhánh tỉnh",
    "Hiệp hội Doanh nghiệp tỉnh",
)

# Phrases that name nobody in particular: kept as a note, never turned into recipients.
DEFAULT_UNSPECIFIC = (
    "các cơ quan, đơn vị liên quan",
    "các cơ quan, đơn vị có liên quan",
    "các cơ quan liên quan",
    "các đơn vị liên quan",
    "các cơ quan, tổ chức liên quan",
    "các tổ chức, cá nhân liên quan",
    "các cơ quan, đơn vị",
    "các địa phương",
    "các đơn vị",
    "cơ quan, đơn vị liên quan",
    "đơn vị liên quan",
)
# "các cơ quan, tổ chức có liên quan", "các sở, ngành liên quan": only generic nouns, then
# "(có) liên quan". A proper name in between ("Cơ quan Công an tỉnh và …") is not generic.
_GENERIC = (
    r"(?:co quan|don vi|to chuc|ca nhan|dia phuong|doanh nghiep|doan the|hoi|so|ban|nganh|cap)"
)
# "UBND các xã, phường, đặc khu có liên quan": some communes, which ones unsaid.
_LOCAL_KINDS = r"(?:xa|phuong|dac khu|thi tran|huyen|thi xa|thanh pho)"
_KIND = rf"(?:{_GENERIC}|{_LOCAL_KINDS})"
UNSPECIFIC_HINT = re.compile(
    rf"^(?:uy ban nhan dan )?(?:cac )?{_KIND}(?: (?:va )?(?:cac )?{_KIND})*(?: co)? lien quan$"
)

# Nouns that, in the plural or in a list of their own, name a kind of body, not a body:
# "các hợp tác xã", "sở, ban, ngành", "UBND xã, phường, đặc khu", "UBND cấp xã".
GROUP_NOUNS = frozenset(
    {
        "so",
        "ban",
        "nganh",
        "xa",
        "phuong",
        "dac khu",
        "thi tran",
        "huyen",
        "thi xa",
        "thanh pho",
        "quan",
        "dia phuong",
        "don vi",
        "co quan",
        "to chuc",
        "doan the",
        "hop tac xa",
        "doanh nghiep",
        "hoi",
        "truong",
        "cap",
    }
)


@functools.lru_cache(maxsize=8192)
def name_key(text: str) -> str:
    """The form two names are compared in: folded, no punctuation, abbreviations expanded."""
    words = fold_words(text.replace("&", " và "))
    return _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], words)


@functools.lru_cache(maxsize=8192)
def squashed(text: str) -> str:
    """Letters only, without "và": 'Sở LĐ-TB&XH' and 'Sở LĐTBXH' both give 'soldtbxh'."""
    return "".join(w for w in fold_words(text.replace("&", " và ")).split() if w != "va")


def acronyms(name: str) -> set[str]:
    """How offices shorten a name: 'Sở Tài nguyên và Môi trường' → 'sotnmt', 'stnmt'."""
    words = [w for w in fold_words(name).split() if w != "va"]
    suffixes = [""]
    if len(words) > 2 and words[-1] == "tinh":
        words, suffixes = words[:-1], ["", "tinh"]
    if len(words) < 3:
        return set()
    initials = "".join(w[0] for w in words)
    forms = {initials, words[0] + initials[1:]}
    return {form + suffix for form in forms for suffix in suffixes}


def head_of(key: str) -> str | None:
    """The head word a `name_key` starts with ('so y te' → 'so'), if any."""
    for head in HEAD_WORDS:
        if key == head or key.startswith(head + " "):
            return head
    return None


@functools.lru_cache(maxsize=1)
def official_keys() -> frozenset[str]:
    return frozenset(name_key(name) for name in OFFICIAL_NAMES)
