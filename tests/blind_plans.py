"""Plans dondoc was never shaped on, written in code: other provinces, after the 2025 reforms.

Each sample is how a provincial office's appendix really looks in one respect the
example plan (NQ 131, 2022) does not show: other header wordings and column orders,
one "Cơ quan thực hiện" column holding "Chủ trì:" and "Phối hợp:", headers split over
two rows, section rows "A. NHIỆM VỤ CHUNG", cells merged over several tasks, PDF tables
over several pages with the header repeated, two-tier local government (xã, phường,
đặc khu) and the merged departments. `DIRECTORY` is the directory such an office keeps.
"""

from __future__ import annotations

from pathlib import Path

from plan_files import Row, Span

# An office's own directory after the 2025 reforms (communes of several provinces, so one
# directory serves every sample).
_AGENCIES = (
    ("vp-ubnd", "Văn phòng UBND tỉnh", "office", ["Văn phòng Ủy ban nhân dân tỉnh"]),
    ("so-noi-vu", "Sở Nội vụ", "department", []),
    ("so-tu-phap", "Sở Tư pháp", "department", []),
    ("so-tai-chinh", "Sở Tài chính", "department", []),
    ("so-cong-thuong", "Sở Công Thương", "department", []),
    ("so-nnmt", "Sở Nông nghiệp và Môi trường", "department", []),
    ("so-xay-dung", "Sở Xây dựng", "department", []),
    ("so-khcn", "Sở Khoa học và Công nghệ", "department", []),
    ("so-vhttdl", "Sở Văn hóa, Thể thao và Du lịch", "department", []),
    ("so-gddt", "Sở Giáo dục và Đào tạo", "department", []),
    ("so-y-te", "Sở Y tế", "department", []),
    ("so-dttg", "Sở Dân tộc và Tôn giáo", "department", []),
    ("thanh-tra", "Thanh tra tỉnh", "department", []),
    ("cong-an", "Công an tỉnh", "police", []),
    ("bchqs", "Bộ Chỉ huy Quân sự tỉnh", "other", []),
    ("bdbp", "Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "other", []),
    ("tt-hcc", "Trung tâm Phục vụ hành chính công tỉnh", "center", []),
    ("bao-ptth", "Báo và Phát thanh, Truyền hình tỉnh", "other", []),
    ("thue", "Thuế tỉnh", "central-branch", []),
    ("p-xuan-huong", "UBND phường Xuân Hương - Đà Lạt", "commune", []),
    ("x-lac-duong", "UBND xã Lạc Dương", "commune", []),
    ("dk-van-don", "UBND đặc khu Vân Đồn", "commune", []),
    ("dk-co-to", "UBND đặc khu Cô Tô", "commune", []),
    ("p-ha-long", "UBND phường Hạ Long", "commune", []),
)
_DEPARTMENTS = [c for c, _, kind, _ in _AGENCIES if kind == "department"]
_LOCAL = [c for c, _, kind, _ in _AGENCIES if kind == "commune"]


def directory_yaml() -> str:
    lines = ["agencies:"]
    for code, name, kind, aliases in _AGENCIES:
        lines += [f"- code: {code}", f'  name: "{name}"', f"  kind: {kind}"]
        if aliases:
            lines.append("  aliases: [" + ", ".join(f'"{a}"' for a in aliases) + "]")
        lines.append(f"  contacts: [{{email: {code}@tinh.example}}]")
    lines += [
        "groups:",
        "- code: so-ban-nganh",
        '  name: "Các sở, ban, ngành"',
        '  aliases: ["Các sở, ngành", "Các sở, ban, ngành tỉnh"]',
        f"  members: [{', '.join(_DEPARTMENTS)}]",
        "- code: ubnd-cap-xa",
        '  name: "UBND các xã, phường, đặc khu"',
        '  aliases: ["UBND cấp xã", "UBND các xã, phường", "Ủy ban nhân dân cấp xã"]',
        f"  members: [{', '.join(_LOCAL)}]",
    ]
    return "\n".join(lines) + "\n"


def write_directory(path: Path) -> Path:
    path.write_text(directory_yaml(), encoding="utf-8")
    return path


# --- Lâm Đồng: "Đơn vị chủ trì", "Thời hạn", a "Ghi chú" column, sections A/B and I/II,
# a lead merged over two tasks, bulleted multi-line coordinators.
LAM_DONG_ABOVE = (
    "PHỤ LỤC",
    "NHIỆM VỤ TRIỂN KHAI KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2026",
    "(Kèm theo Kế hoạch số 45/KH-UBND ngày 15/01/2026 của UBND tỉnh Lâm Đồng)",
)
LAM_DONG: list[Row] = [
    ["STT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Sản phẩm", "Thời hạn",
     "Ghi chú"],
    [Span("A. NHIỆM VỤ CHUNG", columns=7)],
    ["1", "Quán triệt, phổ biến Kế hoạch đến cán bộ, công chức", "Các sở, ban, ngành", "",
     "Văn bản chỉ đạo", "Quý I/2026", ""],
    ["2", "Báo cáo kết quả thực hiện", "UBND các xã, phường, đặc khu",
     "- Sở Khoa học và Công nghệ;\n- Văn phòng UBND tỉnh.", "Báo cáo", "Định kỳ 6 tháng",
     "Gửi Sở KH&CN tổng hợp"],
    [Span("B. NHIỆM VỤ CỤ THỂ", columns=7)],
    ["I", Span("Hạ tầng số", columns=6)],
    ["1", "Phủ sóng 5G các khu dân cư", Span("Sở Khoa học và Công nghệ", rows=2),
     "Sở Xây dựng", "Hạ tầng", "Trước ngày 30/6/2026", ""],
    # The lead above is merged over this task too.
    ["2", "Xây dựng trung tâm dữ liệu tỉnh", "Sở Tài chính", "Danh mục dự án", "Năm 2026",
     "Nhiệm vụ chuyển tiếp"],
    ["II", Span("Dữ liệu số", columns=6)],
    ["1", "Số hóa hồ sơ đất đai", "Sở Nông nghiệp và Môi trường",
     "UBND phường Xuân Hương - Đà Lạt, UBND xã Lạc Dương", "Cơ sở dữ liệu",
     "Giai đoạn 2026 - 2030", ""],
    ["2", "Cập nhật dữ liệu dân cư", "Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh", "Dữ liệu",
     "Hằng năm", ""],
]  # fmt: skip

# --- Gia Lai: one "Cơ quan, đơn vị thực hiện" column with "Chủ trì:" and "Phối hợp:"
# inside, "Tiến độ thực hiện", "Kết quả/sản phẩm đầu ra".
GIA_LAI: list[Row] = [
    ["TT", "Nhiệm vụ", "Kết quả/sản phẩm đầu ra", "Cơ quan, đơn vị thực hiện", "Tiến độ thực hiện"],
    ["I", Span("CẢI CÁCH HÀNH CHÍNH", columns=4)],
    [
        "1",
        "Rà soát thủ tục hành chính nội bộ",
        "Quyết định",
        "Chủ trì: Văn phòng UBND tỉnh\nPhối hợp: Sở Tư pháp, Sở Nội vụ",
        "Quý III năm 2026",
    ],
    [
        "2",
        "Kiện toàn bộ phận một cửa cấp xã",
        "Quyết định kiện toàn",
        "Chủ trì: UBND các xã, phường\nPhối hợp: Trung tâm Phục vụ hành chính công tỉnh",
        "6 tháng đầu năm 2026",
    ],
    [
        "3",
        "Đánh giá chỉ số cải cách hành chính",
        "Báo cáo",
        "- Chủ trì: Sở Nội vụ;\n- Phối hợp: các sở, ban, ngành.",
        "Trước ngày 20/12 hằng năm",
    ],
]

# --- An Giang: "Chủ trì thực hiện", "Phối hợp thực hiện", "Thời gian"; a long table over
# several PDF pages with its header repeated on each.
AN_GIANG_HEADER: Row = [
    "TT",
    "Nhiệm vụ, giải pháp",
    "Chủ trì thực hiện",
    "Phối hợp thực hiện",
    "Thời gian",
    "Kết quả/sản phẩm đầu ra",
]
_AN_GIANG_LEADS = (
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Dân tộc và Tôn giáo",
    "Sở Công Thương",
)
_AN_GIANG_DEADLINES = (
    "Quý I/2026",
    "Tháng 9/2026 (tổng kết)",
    "Hằng quý",
    "Trước ngày 15 hằng tháng",
    "2026-2030",
)


def an_giang_rows(count: int = 36) -> list[Row]:
    rows: list[Row] = [AN_GIANG_HEADER]
    for n in range(1, count + 1):
        rows.append(
            [
                str(n),
                f"Nhiệm vụ số {n}: triển khai giải pháp nâng cao chất lượng dịch vụ công "
                "trực tuyến toàn trình trên địa bàn tỉnh",
                _AN_GIANG_LEADS[n % len(_AN_GIANG_LEADS)],
                "Sở Tài chính; UBND các xã, phường, đặc khu",
                _AN_GIANG_DEADLINES[n % len(_AN_GIANG_DEADLINES)],
                "Báo cáo",
            ]
        )
    return rows


# --- Thành phố Huế: "Cơ quan thực hiện" merged over "Chủ trì | Phối hợp", "Thời gian
# thực hiện" over "Bắt đầu | Hoàn thành", then the "(1) (2) …" row.
HUE: list[Row] = [
    [
        Span("STT", rows=2),
        Span("Tên nhiệm vụ", rows=2),
        Span("Cơ quan thực hiện", columns=2),
        Span("Thời gian thực hiện", columns=2),
        Span("Sản phẩm", rows=2),
    ],
    ["Chủ trì", "Phối hợp", "Bắt đầu", "Hoàn thành"],
    ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"],
    [
        "1",
        "Tổng kết mô hình chính quyền đô thị",
        "Sở Nội vụ",
        "Văn phòng UBND tỉnh",
        "Tháng 3/2026",
        "Tháng 9/2026 (tổng kết)",
        "Báo cáo tổng kết",
    ],
    [
        "2",
        "Sắp xếp đơn vị sự nghiệp công lập",
        "Sở Nội vụ",
        "Các sở, ngành",
        "Năm 2026",
        "Trước ngày 30/6/2026",
        "Đề án",
    ],
]

_OTHER_DEPARTMENTS = [c for c in _DEPARTMENTS if c != "so-noi-vu"]
# What a careful reader reads: (STT, deadline, lead codes, coordinator codes) per task.
HUE_READ = [
    ("1", "Tháng 9/2026 (tổng kết)", ["so-noi-vu"], ["vp-ubnd"]),
    ("2", "Trước ngày 30/6/2026", ["so-noi-vu"], _OTHER_DEPARTMENTS),
]

# --- Quảng Ninh: đặc khu Vân Đồn and Cô Tô, border guard and military, event deadlines.
QUANG_NINH_ABOVE = ("PHỤ LỤC", "(Kèm theo Kế hoạch số 210/KH-UBND của UBND tỉnh Quảng Ninh)")
QUANG_NINH: list[Row] = [
    ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
    [
        "1",
        "Xây dựng quy chế phối hợp quản lý biển đảo",
        "Bộ Chỉ huy Bộ đội Biên phòng tỉnh",
        "Bộ Chỉ huy Quân sự tỉnh, Công an tỉnh, UBND đặc khu Vân Đồn, UBND đặc khu Cô Tô",
        "Ngay sau khi Nghị định được ban hành",
    ],
    [
        "2",
        "Báo cáo tình hình an ninh trật tự",
        "Công an tỉnh",
        "UBND các xã, phường, đặc khu",
        "Trước ngày 15 hằng tháng",
    ],
    [
        "3",
        "Phát triển du lịch biển đảo",
        "Sở Văn hóa, Thể thao và Du lịch",
        "UBND đặc khu Vân Đồn\nUBND đặc khu Cô Tô\nUBND phường Hạ Long",
        "Năm 2026",
    ],
]

QUANG_NINH_READ = [
    ("1", "Ngay sau khi Nghị định được ban hành", ["bdbp"],
     ["bchqs", "cong-an", "dk-van-don", "dk-co-to"]),
    ("2", "Trước ngày 15 hằng tháng", ["cong-an"], _LOCAL),
    ("3", "Năm 2026", ["so-vhttdl"], ["dk-van-don", "dk-co-to", "p-ha-long"]),
]  # fmt: skip

# --- Excel: deadline before the agencies, a "Lãnh đạo UBND tỉnh phụ trách" column.
EXCEL: list[Row] = [
    [
        "Số TT",
        "Tên nhiệm vụ",
        "Thời hạn hoàn thành",
        "Cơ quan chủ trì",
        "Cơ quan phối hợp",
        "Lãnh đạo UBND tỉnh phụ trách",
        "Ghi chú",
    ],
    [
        "1",
        "Xây dựng Đề án phát triển kinh tế tư nhân",
        "Tháng 10/2026",
        "Sở Tài chính",
        "Sở Công Thương; Thuế tỉnh",
        "Phó Chủ tịch UBND tỉnh",
        "",
    ],
    [
        "2",
        "Sơ kết công tác dân tộc, tôn giáo",
        "Định kỳ 6 tháng",
        "Sở Dân tộc và Tôn giáo",
        "UBND các xã, phường, đặc khu",
        "Chủ tịch UBND tỉnh",
        "",
    ],
]

EXCEL_READ = [
    ("1", "Tháng 10/2026", ["so-tai-chinh"], ["so-cong-thuong", "thue"]),
    ("2", "Định kỳ 6 tháng", ["so-dttg"], _LOCAL),
]

# --- CSV: "Cơ quan chủ trì tham mưu", "Thời điểm hoàn thành", "Hình thức văn bản".
CSV_PLAN: list[list[str]] = [
    [
        "Số TT",
        "Tên nhiệm vụ",
        "Cơ quan chủ trì tham mưu",
        "Cơ quan phối hợp",
        "Thời điểm hoàn thành",
        "Hình thức văn bản",
    ],
    [
        "1",
        "Tham mưu ban hành quy định phân cấp",
        "Sở Tư pháp",
        "Sở Nội vụ",
        "Quý II/2026",
        "Quyết định của UBND tỉnh",
    ],
    ["2", "Tổng kết thi hành pháp luật", "Sở Tư pháp", "Các sở, ban, ngành", "Hằng năm", "Báo cáo"],
]

CSV_READ = [
    ("1", "Quý II/2026", ["so-tu-phap"], ["so-noi-vu"]),
    ("2", "Hằng năm", ["so-tu-phap"], [c for c in _DEPARTMENTS if c != "so-tu-phap"]),
]

# --- Word with two appendices and a list sharing a prefix ("Các Sở: …").
TWO_APPENDICES: list[list[Row] | str] = [
    [
        ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
        [
            "1",
            "Xây dựng cơ sở dữ liệu công chức",
            "Sở Nội vụ",
            "Các Sở: Tài chính, Xây dựng, Y tế",
            "Tháng 12/2026",
        ],
        [
            "2",
            "Kiểm tra công vụ",
            "Sở Nội vụ (cơ quan thường trực)",
            "Thanh tra tỉnh và các cơ quan liên quan",
            "Thường xuyên",
        ],
    ],
    "PHỤ LỤC II",
    [
        ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
        ["1", "Tổng kết Kế hoạch", "Văn phòng UBND tỉnh", "Sở Nội vụ", "Tháng 12/2030"],
    ],
]


TWO_APPENDICES_READ = [
    ("1", "Tháng 12/2026", ["so-noi-vu"], ["so-tai-chinh", "so-xay-dung", "so-y-te"]),
    ("2", "Thường xuyên", ["so-noi-vu"], ["thanh-tra"]),
]


BROKEN_HEADER: Row = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"]
# Task 2's title and coordinators run onto page 2.
BROKEN_ROW_PAGES: list[list[Row]] = [
    [
        BROKEN_HEADER,
        ["I", "NHIỆM VỤ CHUNG", "", "", ""],
        ["1", "Xây dựng cơ sở dữ liệu", "Sở Tài chính", "Sở Nội vụ", "Quý I/2026"],
        ["2", "Triển khai hệ thống quản lý văn bản", "Sở Khoa học và Công nghệ",
         "Sở Nội vụ,", "Năm 2026"],
    ],
    [
        BROKEN_HEADER,
        ["", "và điều hành liên thông", "", "Sở Y tế", ""],
        ["3", "Đào tạo kỹ năng số", "Sở Nội vụ", "", "Hằng năm"],
    ],
]  # fmt: skip


# --- Section rows merged across the whole table: their text sits in the STT cell.
WIDE_SECTIONS: list[Row] = [
    ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Ghi chú"],
    [Span("NHIỆM VỤ CHUNG", columns=6)],
    ["1", "Quán triệt", "Sở Nội vụ", "", "Quý I/2026", ""],
    [Span("NHIỆM VỤ CỤ THỂ", columns=6)],
    [Span("1. Lĩnh vực y tế", columns=6)],
    ["1.1", "Tiêm chủng mở rộng", "Sở Y tế", "", "Năm 2026", ""],
    [Span("PHẦN II. TỔ CHỨC THỰC HIỆN", columns=6)],
    ["2", "Báo cáo kết quả", "Sở Y tế", "", "Hằng quý", ""],
    [Span("Ghi chú: nhiệm vụ in nghiêng là nhiệm vụ chuyển tiếp", columns=6)],
]
