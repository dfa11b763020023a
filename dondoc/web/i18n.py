"""The web pages' words per locale: Vietnamese as written, English from the table below.

As for messages (notifiers.render: LOCALES, BUTTON_LABELS, ROLE_LABELS, format_date),
a phrase is looked up by locale with Vietnamese as the default and the fallback. Pages
are written in Vietnamese and mark each phrase with t("…"); the Vietnamese text is its
own key, so a template reads as the page reads. An office user's pages follow the
user's locale, an agency's answer pages the agency's (Agency.locale). A phrase missing
here shows in Vietnamese; tests/test_web_locale.py checks that none is.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request

from notifiers.render import DEFAULT_LOCALE, LOCALES, format_date

EN: dict[str, str] = {
    # Page frame, sign-in, errors
    "Bỏ qua thanh điều hướng": "Skip navigation",
    "Điều hướng chính": "Main navigation",
    "Tổng quan": "Overview",
    "Danh sách chậm muộn": "Late list",
    "Quy tắc": "Rules",
    "quản trị": "administrator",
    "chỉ xem": "read-only",
    "Đổi ngôn ngữ": "Change language",
    "Đăng xuất": "Sign out",
    "Đăng nhập": "Sign in",
    "Dành cho cán bộ Văn phòng theo dõi kế hoạch.": "For office staff who track the plans.",
    "Tên đăng nhập": "User name",
    "Mật khẩu": "Password",
    "Về trang chủ": "Back to the overview",
    "Không có quyền": "Not allowed",
    "Tài khoản của bạn chỉ được xem, không được thay đổi dữ liệu.": (
        "Your account is read-only: it cannot change anything."
    ),
    "Phiên làm việc đã hết hạn": "Your session has expired",
    "Biểu mẫu không hợp lệ hoặc đã quá hạn. Vui lòng tải lại trang và thử lại.": (
        "The form is invalid or has expired. Please reload the page and try again."
    ),
    "Không tìm thấy": "Not found",
    "Trang bạn tìm không tồn tại.": "The page you are looking for does not exist.",
    "Lỗi": "Error",
    # Overview
    "Tổng quan ngày {day}": "Overview, {day}",
    "Chưa có kế hoạch nào. Nhập kế hoạch bằng lệnh": "No plan yet. Import one with",
    "Đề nghị gia hạn chờ duyệt ({n})": "Extension requests awaiting a decision ({n})",
    "{agency}, đề nghị đến {day}": "{agency}, asks for {day}",
    "Mã kế hoạch": "Plan code",
    "Số nhiệm vụ của các cơ quan theo tình trạng (QĐ 42)": (
        "Agencies' tasks by status (Decision 42)"
    ),
    "Số lượng": "Count",
    "Tổng cộng": "Total",
    "Biểu đồ số nhiệm vụ theo tình trạng, kế hoạch {code}": "Tasks by status, plan {code}",
    "Kế hoạch chưa có nhiệm vụ được giao.": "No task of this plan is assigned yet.",
    "Cơ quan có nhiều nhiệm vụ quá hạn nhất": "Agencies with the most overdue tasks",
    "Cơ quan, đơn vị": "Agency",
    "Nhiệm vụ quá hạn": "Overdue tasks",
    "Biểu đồ số nhiệm vụ quá hạn theo cơ quan": "Overdue tasks by agency",
    "Không có nhiệm vụ nào quá hạn.": "No task is overdue.",
    "Đã gửi tuần này (từ {day})": "Sent this week (from {day})",
    "Chưa gửi thông báo nào.": "Nothing sent yet.",
    "Sẽ gửi tuần sau (từ {day})": "To be sent next week (from {day})",
    "Đang cập nhật theo thay đổi mới nhất; số liệu trên tính lúc {moment}.": (
        "Updating for the latest changes; the figures above were computed at {moment}."
    ),
    "Không có thông báo nào đến hạn tuần sau.": "Nothing falls due next week.",
    "Xem trước từng thông báo của 4 tuần tới": "Preview every message of the next 4 weeks",
    # Kinds of message and channels (dondoc.web.office.TEMPLATE_LABELS)
    "Nhắc trước hạn": "Reminder before the deadline",
    "Đến hạn": "Due today",
    "Quá hạn": "Overdue",
    "Báo cáo lãnh đạo": "Escalation to the head",
    "Hỏi tiến độ": "Progress check",
    "Đề nghị xác định thời hạn": "Request to set a deadline",
    "Đề nghị giải trình": "Request for an explanation",
    "Giải trình nhận được": "Explanation received",
    "Kết quả xét gia hạn": "Extension decision",
    "Báo gửi không thành công": "Delivery failure notice",
    "Sự kiện webhook": "Webhook event",
    "Báo cáo quý": "Quarterly report",
    "Thư tổng hợp": "Digest",
    # Plan, task and agency pages
    "Phần": "Section",
    "STT": "No.",
    "Nhiệm vụ": "Task",
    "Thời hạn (văn bản)": "Deadline (as written)",
    "Cách hiểu": "Understood as",
    "Cơ quan và tình trạng": "Agencies and status",
    "Thời hạn": "Deadline",
    "(chưa có)": "(none)",
    "Cơ quan": "Agency",
    "hạn": "due",
    "Trang": "Pages",
    "Trang trước": "Previous page",
    "Trang sau": "Next page",
    "Trang {page}/{pages}": "Page {page} of {pages}",
    "Các phần của kế hoạch": "Sections of the plan",
    "Các phần của kế hoạch ({n} trang, {per} nhiệm vụ mỗi trang)": (
        "Sections of the plan ({n} pages, {per} tasks a page)"
    ),
    "trang {page}": "page {page}",
    "Chủ trì": "Lead",
    "Phối hợp": "Coordinating",
    "Chưa xác nhận": "Not acknowledged",
    "Đã nhận": "Received",
    "Đã hoàn thành": "Done",
    "Chờ duyệt": "Awaiting decision",
    "Đã đồng ý": "Approved",
    "Không đồng ý": "Denied",
    "Sản phẩm": "Product",
    "Thời hạn trong kế hoạch": "Deadline in the plan",
    "Cách hiểu thời hạn": "Deadline understood as",
    "Cơ quan thực hiện": "Agencies",
    "Vai trò": "Role",
    "Tình trạng": "Status",
    "Hạn hoàn thành": "Due date",
    "Hạn": "Due",
    "đã gia hạn": "extended",
    "Đề nghị gia hạn": "Extension requests",
    "Chưa có đề nghị gia hạn.": "No extension request.",
    "Đề nghị gia hạn số {n}": "Extension request {n}",
    "Lý do": "Reason",
    "Hạn hiện tại": "Current due date",
    "Đề nghị đến": "Asked for",
    "Ghi chú (không bắt buộc)": "Note (optional)",
    "Đồng ý gia hạn": "Approve the extension",
    "Tài khoản chỉ xem: không duyệt được đề nghị.": (
        "Read-only account: it cannot decide on requests."
    ),
    "Giải trình": "Explanation",
    "Chưa có giải trình.": "No explanation yet.",
    "Nhật ký": "Audit trail",
    "Thời điểm": "When",
    "Người thực hiện": "By",
    "Việc": "Action",
    "Chi tiết": "Details",
    "Lúc": "When",
    "Người": "By",
    "Mã cơ quan": "Agency code",
    "Liên hệ": "Contacts",
    "lãnh đạo": "head",
    "ngừng dùng": "no longer used",
    "Telegram đã liên kết": "Linked Telegram chats",
    "Nhiệm vụ ({n})": "Tasks ({n})",
    "Kế hoạch": "Plan",
    "Thông báo gần đây": "Recent messages",
    "Tạo lúc": "Created",
    "Loại": "Kind",
    "Kênh": "Channel",
    "Tình trạng gửi": "Delivery",
    "Gửi lúc": "Sent",
    "Chưa có thông báo.": "No message yet.",
    "Trả lời và thay đổi gần đây": "Recent answers and changes",
    "Chưa có.": "None yet.",
    # Late list
    "Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ {period}": (
        "Agencies late with their tasks, {period}"
    ),
    "Tháng": "Month",
    "Tất cả": "All",
    "Xem": "Show",
    "Tải về:": "Download (in Vietnamese):",
    "{agencies} cơ quan, {late} nhiệm vụ chậm muộn, {missing} chưa giải trình.": (
        "{agencies} agencies, {late} late tasks, {missing} without an explanation."
    ),
    "Biểu đồ số nhiệm vụ chậm muộn theo cơ quan": "Late tasks by agency",
    "{n} ngày": "{n} days",
    "Chưa giải trình": "No explanation",
    "Không có cơ quan nào chậm muộn trong tháng này.": "No agency was late this month.",
    # Rules
    "Quy tắc nhắc việc": "Reminder rules",
    "Quy tắc nhắc việc đang dùng": "Reminder rules in force",
    "Tệp": "File",
    "Trang này chỉ để xem: sửa quy tắc bằng cách sửa tệp rồi chạy": (
        "This page is read-only: change the rules by editing the file, then run"
    ),
    "Kiểm tra: có {n} lỗi": "Check: {n} problems",
    "Kiểm tra: hợp lệ.": "Check: valid.",
    "Chính sách": "Policies",
    "{stage}: gửi {to} qua {channels} (mẫu {template})": (
        "{stage}: to {to} by {channels} (template {template})"
    ),
    "Theo loại thời hạn": "By kind of deadline",
    "Múi giờ {zone}; giờ làm việc {start}–{end}.": "Time zone {zone}; office hours {start}–{end}.",
    "Xem trước {n} thông báo trong 4 tuần tới": "Preview of {n} messages in the next 4 weeks",
    "Tuần từ {day}: {n} thông báo": "Week from {day}: {n} messages",
    "Đến": "To",
    "Bước": "Stage",
    "Nội dung tệp": "File contents",
    # An agency's portal and answer pages
    "Nhiệm vụ của {agency}": "Tasks of {agency}",
    "Trang này dành riêng cho cơ quan; xin không chuyển liên kết cho người ngoài.": (
        "This page is for your agency only; please do not pass the link on."
    ),
    "Lịch hạn hoàn thành": "Due dates calendar",
    "thêm vào ứng dụng lịch (iCalendar)": "add to your calendar app (iCalendar)",
    "Cơ quan không còn nhiệm vụ nào đang mở.": "Your agency has no open task left.",
    "Nhiệm vụ STT {n}": "Task no. {n}",
    "Đang chờ duyệt gia hạn": "Extension awaiting a decision",
    "Xin gia hạn": "Ask for an extension",
    "Gửi giải trình": "Send an explanation",
    "Các nhiệm vụ của {agency}": "All tasks of {agency}",
    "Xác nhận đã nhận nhiệm vụ": "Acknowledge the task",
    "Báo cáo đã hoàn thành": "Report the task done",
    "Kỳ": "Occurrence",
    "hạn hoàn thành": "due",
    "Bấm nút dưới đây để báo Văn phòng rằng cơ quan đã nhận nhiệm vụ.": (
        "Press the button below to tell the office that your agency has received the task."
    ),
    "Xác nhận đã nhận": "Confirm receipt",
    "Cơ quan xác nhận đã hoàn thành nhiệm vụ này (kỳ {day})? Văn phòng sẽ ngừng nhắc việc.": (
        "Does your agency confirm this task is done (occurrence {day})? "
        "The office will stop the reminders."
    ),
    "Cơ quan xác nhận đã hoàn thành nhiệm vụ này? Văn phòng sẽ ngừng nhắc việc.": (
        "Does your agency confirm this task is done? The office will stop the reminders."
    ),
    "Xác nhận đã hoàn thành": "Confirm it is done",
    "Lý do xin gia hạn": "Why an extension is needed",
    "Đề nghị gia hạn đến ngày": "New due date asked for",
    "Gửi đề nghị gia hạn": "Send the request",
    "Nội dung giải trình": "Explanation",
    "Đã ghi nhận: cơ quan đã nhận nhiệm vụ. Văn phòng sẽ không nhắc lại.": (
        "Recorded: your agency has received the task. The office will not remind you again."
    ),
    "Đã ghi nhận: nhiệm vụ đã hoàn thành. Xin cảm ơn.": "Recorded: the task is done. Thank you.",
    "Đã ghi nhận hoàn thành kỳ {occurrence}. Xin cảm ơn.": (
        "Recorded: occurrence {occurrence} is done. Thank you."
    ),
    "Nhiệm vụ này đã được báo hoàn thành trước đó.": "This task was already reported done.",
    "Đã gửi giải trình đến Văn phòng. Xin cảm ơn.": (
        "Your explanation was sent to the office. Thank you."
    ),
    "Đã gửi đề nghị gia hạn đến ngày {proposed}. Văn phòng sẽ trả lời sau khi xem xét.": (
        "Your request for an extension to {proposed} was sent. The office will answer after "
        "considering it."
    ),
    "Đã có một đề nghị gia hạn (đến {proposed}) đang chờ duyệt.": (
        "A request for an extension (to {proposed}) is already awaiting a decision."
    ),
    "Ngày đề nghị ({proposed}) phải sau hôm nay.": (
        "The date asked for ({proposed}) must be after today."
    ),
    "Nhiệm vụ này không còn được theo dõi.": "This task is no longer tracked.",
    "Liên kết này không dùng được cho nhiệm vụ này.": "This link cannot be used for this task.",
    "Đã ghi nhận.": "Recorded.",
    "Vui lòng nhập nội dung giải trình.": "Please write the explanation.",
    "Vui lòng nhập lý do xin gia hạn.": "Please give the reason for the extension.",
    "Vui lòng chọn ngày đề nghị gia hạn (ngày/tháng/năm).": "Please choose the date asked for.",
    "Không mở được liên kết": "The link cannot be opened",
    "Liên kết đã hết hạn. Vui lòng dùng liên kết trong thư nhắc việc mới nhất hoặc liên hệ "
    "Văn phòng.": "This link has expired. Please use the link in the latest reminder or "
    "contact the office.",
    "Liên kết đã bị thu hồi. Vui lòng liên hệ Văn phòng để nhận liên kết mới.": (
        "This link was revoked. Please contact the office for a new one."
    ),
    "Liên kết không hợp lệ. Vui lòng kiểm tra lại thư hoặc liên hệ Văn phòng.": (
        "This link is not valid. Please check the email or contact the office."
    ),
}
TABLES: dict[str, dict[str, str]] = {"en": EN}

# Vietnamese, as pages mark every phrase: t(STATUS[...]) gives the reader's locale.
STATUS_LABELS: dict[str, Any] = {
    "open": "Chưa xác nhận",
    "acknowledged": "Đã nhận",
    "done": "Đã hoàn thành",
    "pending": "Chờ duyệt",
    "approved": "Đã đồng ý",
    "denied": "Không đồng ý",
}
ROLE_LABELS = {"lead": "Chủ trì", "coordinator": "Phối hợp"}


def known_locale(locale: object) -> str:
    return locale if isinstance(locale, str) and locale in LOCALES else DEFAULT_LOCALE


def translate(text: str, locale: str) -> str:
    """`text` (Vietnamese) in `locale`; Vietnamese when there is no translation."""
    return TABLES.get(locale, {}).get(text, text)


def use_locale(request: Request, locale: object) -> str:
    """The locale of the page being answered: the signed-in user's, or the agency's."""
    chosen = known_locale(locale)
    request.state.locale = chosen
    return chosen


def locale_of(request: Request) -> str:
    return known_locale(getattr(request.state, "locale", DEFAULT_LOCALE))


@pass_context
def t(context: Context, text: str, **values: Any) -> Markup:
    """A page phrase in the page's locale, its values filled in and escaped."""
    phrase = Markup(escape(translate(text, str(context.get("locale", DEFAULT_LOCALE)))))
    return phrase.format(**values) if values else phrase


def local_date(value: date | str | None, locale: str, tz: tzinfo) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(tz).date()
    return format_date(value, locale)


def local_datetime(value: datetime | None, locale: str, tz: tzinfo) -> str:
    if value is None:
        return ""
    local = value.astimezone(tz)
    separator = ", " if locale == "en" else " "
    return f"{local:%H:%M}{separator}{format_date(local.date(), locale)}"
