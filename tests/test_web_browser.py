"""What office staff and agencies click, in a real headless browser (Debian's chromium
driven by Playwright) against the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Cli
from daemon_support import arrivals, at, simulate
from fakes.smtp import SmtpSink
from sqlmodel import select
from web_support import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SECRET,
    VIEWER,
    Site,
    agency_id,
    assignment_of,
    browser_missing,
    serve_site,
)

from dondoc.models import Assignment, AuditEntry, ExtensionRequest
from dondoc.reports.late import build_late_report
from dondoc.reports.periods import parse_month
from dondoc.reports.render_html import render_late_html
from dondoc.store import session_scope
from dondoc.web.accounts import add_user
from dondoc.web.links import Links, Signer

pytest_plugins = ["fakes.fixtures"]
pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")

ARTIFACTS = ROOT / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LEAD_MAIL = ["so-tu-phap@tinhmau.example"]
PAGES = (("overview", "/"), ("plan", "/plans/test"), ("late", "/late?month=2023-01"))
ENGLISH = "reader.en"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium. Not kept across daemon runs: Playwright's sync API keeps an
    event loop running in this thread, and the daemon needs its own (asyncio.run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browsing(viewport: dict[str, int] = DESKTOP) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport=viewport, locale="vi-VN")
        yield context.new_page()
        context.close()


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    with serve_site(tmp_path, smtp_sink) as served:
        yield served


def run_daemon(site: Site, until: datetime) -> None:
    """The real daemon on the virtual clock (in the main thread: it handles signals)."""
    simulate(site.app, until)


def sign_in(page: Any, site: Site, name: str, *, english: bool = False) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{site.url}/")
    # The pages after sign-in speak the user's language.
    page.get_by_role("button", name="Sign out" if english else "Đăng xuất").wait_for()


def link_in(mail_text: str, label: str) -> str:
    found = re.search(rf"{label}: (http\S+)", mail_text)
    assert found, mail_text
    return found.group(1)


def status_of(site: Site, assignment: int) -> str:
    with session_scope(site.app.engine) as session:
        row = session.get(Assignment, assignment)
        assert row is not None
        return row.status


def mail_text(message: Any) -> str:
    body = message.message.get_body(preferencelist=("plain",))
    return str(body.get_content())


def test_an_office_user_approves_an_extension_and_the_next_reminder_follows_it(
    site: Site,
) -> None:
    app = site.app
    lead = assignment_of(app, "so-tu-phap")
    ask = Links(site.url, Signer(SECRET, clock=app.clock)).answer(
        agency_id=agency_id(app, "so-tu-phap"), assignment_id=lead, occurrence=None
    )["extend"]
    with browsing() as page:
        # The agency asks through its emailed link ...
        page.goto(ask)
        page.get_by_label("Lý do xin gia hạn").fill("Chờ hướng dẫn của Bộ Tư pháp")
        page.get_by_label("Đề nghị gia hạn đến ngày").fill("2023-03-31")
        page.get_by_role("button", name="Gửi đề nghị gia hạn").click()
        page.get_by_text("Đã gửi đề nghị gia hạn đến ngày 31/03/2023").wait_for()
        # ... and the office approves it from the overview's list of pending requests.
        sign_in(page, site, ADMIN)
        page.get_by_role("link", name=re.compile("Xây dựng kế hoạch số hóa hồ sơ")).click()
        page.get_by_role("button", name="Đồng ý gia hạn").click()
        page.get_by_text("Đã đồng ý (web:chanh.vp)").wait_for()
    with session_scope(app.engine) as session:
        request = session.exec(select(ExtensionRequest)).one()
        assert (request.status, request.decided_by) == ("approved", f"web:{ADMIN}")
    run_daemon(site, at("2023-04-01"))
    found = arrivals(app)
    # No reminder about 31/12/2022 any more: the lead's reminders follow 31/03/2023.
    assert ("due_today", "so-tu-phap") in found
    assert found[("due_today", "so-tu-phap")] == {at("2023-03-31", 7, 30)}
    assert found[("upcoming", "so-tu-phap")] == {at("2023-03-17", 7, 30)}
    # The coordinator's deadline is unchanged.
    assert found[("coordinators", "so-noi-vu")] == {at("2022-12-28", 7, 30)}


def test_an_emailed_received_link_is_pressed_and_the_daemon_sends_no_repeat(
    site: Site, smtp_sink: SmtpSink
) -> None:
    run_daemon(site, at("2023-01-04"))
    lead_mails = [m for m in smtp_sink.messages if m.recipients == LEAD_MAIL]
    assert lead_mails
    latest = mail_text(lead_mails[-1])
    assert "Trả lời ngay trên trang web" in latest
    lead = assignment_of(site.app, "so-tu-phap")
    with browsing(PHONE) as page:
        page.goto(link_in(latest, "Đã nhận"))
        page.get_by_text("Xây dựng kế hoạch số hóa hồ sơ").wait_for()
        assert status_of(site, lead) == "open"  # opening the link changed nothing
        page.get_by_role("button", name="Xác nhận đã nhận").click()
        page.get_by_text("Đã ghi nhận: cơ quan đã nhận nhiệm vụ").wait_for()
    assert status_of(site, lead) == "acknowledged"
    before = len(lead_mails)
    # The weekly repeat due on Monday 9 January is not sent: the agency has answered.
    run_daemon(site, at("2023-01-10"))
    assert len([m for m in smtp_sink.messages if m.recipients == LEAD_MAIL]) == before


def test_an_explanation_sent_by_form_shows_on_the_late_list_and_in_the_cli_report(
    site: Site, smtp_sink: SmtpSink, cli: Cli
) -> None:
    run_daemon(site, at("2023-01-04"))
    overdue = [m for m in smtp_sink.messages if m.recipients == LEAD_MAIL][-1]
    with browsing() as page:
        page.goto(link_in(mail_text(overdue), "Gửi giải trình"))
        page.get_by_label("Nội dung giải trình").fill(
            "Chậm do chờ ý kiến thẩm định của Bộ Tư pháp."
        )
        page.get_by_role("button", name="Gửi giải trình").click()
        page.get_by_text("Đã gửi giải trình đến Văn phòng").wait_for()
        sign_in(page, site, VIEWER)
        page.goto(f"{site.url}/late?month=2023-01")
        page.get_by_text("Chậm do chờ ý kiến thẩm định của Bộ Tư pháp.").wait_for()
    report = cli("--now", "2023-02-01", "report", "late", "--month", "2023-01", "--format", "csv")
    assert report.exit_code == 0, report.stderr
    assert "Chậm do chờ ý kiến thẩm định của Bộ Tư pháp." in report.stdout


def test_a_tampered_link_shows_a_refusal_and_a_viewer_sees_no_approve_button(
    site: Site,
) -> None:
    app = site.app
    lead = assignment_of(app, "so-tu-phap")
    made = Links(site.url, Signer(SECRET, clock=app.clock)).answer(
        agency_id=agency_id(app, "so-tu-phap"), assignment_id=lead, occurrence=None
    )
    with browsing() as page:
        page.goto(made["ack"].replace("/r/", "/r/x"))
        page.get_by_text("Liên kết không hợp lệ").wait_for()
        page.goto(made["extend"])
        page.get_by_label("Lý do xin gia hạn").fill("Chờ số liệu")
        page.get_by_label("Đề nghị gia hạn đến ngày").fill("2023-02-28")
        page.get_by_role("button", name="Gửi đề nghị gia hạn").click()
        page.get_by_text("Đã gửi đề nghị gia hạn").wait_for()
        sign_in(page, site, VIEWER)
        page.get_by_role("link", name=re.compile("Xây dựng kế hoạch số hóa hồ sơ")).click()
        page.get_by_text("Tài khoản chỉ xem: không duyệt được đề nghị.").wait_for()
        assert page.get_by_role("button", name="Đồng ý gia hạn").count() == 0
    with session_scope(app.engine) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "link.refused")).all()
    assert [e.detail["reason"] for e in refused] == ["bad_signature"]


def test_screenshots_of_the_overview_plan_and_late_list_at_phone_and_desktop_widths(
    site: Site,
) -> None:
    """In both languages: Vietnamese as <page>-<width>.png, English as <page>-en-<width>.png."""
    add_english_user(site)
    run_daemon(site, at("2023-01-04"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for user, suffix in ((ADMIN, ""), (ENGLISH, "-en")):
        for label, viewport in (("390", PHONE), ("1280", DESKTOP)):
            with browsing(viewport) as page:
                sign_in(page, site, user, english=bool(suffix))
                for name, path in PAGES:
                    page.goto(f"{site.url}{path}")
                    # Nothing wider than the screen: the page never scrolls sideways.
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= viewport["width"], (name, label, suffix, width)
                    page.screenshot(
                        path=str(ARTIFACTS / f"{name}{suffix}-{label}.png"), full_page=True
                    )
    assert len(list(ARTIFACTS.glob("*.png"))) >= 12


def add_english_user(site: Site) -> None:
    with session_scope(site.app.engine) as session:
        add_user(
            session,
            name=ENGLISH,
            role="viewer",
            password=PASSWORD,
            actor="t",
            now=site.app.clock.now(),
            locale="en",
        )


def test_an_english_user_sees_the_overview_in_english_a_vietnamese_one_in_vietnamese(
    site: Site,
) -> None:
    add_english_user(site)
    run_daemon(site, at("2023-01-04"))
    with browsing(PHONE) as page:
        sign_in(page, site, ENGLISH, english=True)
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("heading", name="Overview, 4 Jan 2023").wait_for()
        page.get_by_role("cell", name="Not done, overdue").wait_for()
        assert page.get_by_text("Tổng quan ngày").count() == 0
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, site, ADMIN)
        assert page.locator("html").get_attribute("lang") == "vi"
        page.get_by_role("heading", name="Tổng quan ngày 04/01/2023").wait_for()
        page.get_by_role("cell", name="Chưa hoàn thành, quá hạn").wait_for()
        # The Vietnamese user switches to English from the page header, with the keyboard.
        page.get_by_role("button", name="English").focus()
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Overview, 4 Jan 2023").wait_for()
        assert page.locator("html").get_attribute("lang") == "en"


def test_the_emailed_late_report_reads_on_a_phone_and_in_print(site: Site) -> None:
    run_daemon(site, at("2023-02-02"))
    tz = site.app.settings.tz
    with session_scope(site.app.engine) as session:
        report = build_late_report(
            session, period=parse_month("2023-01"), now=site.app.clock.now(), tz=tz
        )
        html = render_late_html(report, tz=tz, office_name="Văn phòng UBND tỉnh")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browsing(PHONE) as page:
        page.set_content(html)
        # The chart scales to the screen instead of running off it.
        chart = page.locator("svg.chart").bounding_box()
        assert chart is not None and chart["x"] + chart["width"] <= PHONE["width"]
        # The state header keeps whole phrases on a line: at most two lines for the
        # nation's name, not one word per line.
        nation = page.locator(".doc-header .nation")
        lines = nation.evaluate(
            "e => Math.round(e.getBoundingClientRect().height"
            " / parseFloat(getComputedStyle(e).lineHeight))"
        )
        assert lines <= 2, lines
        page.screenshot(path=str(ARTIFACTS / "late-report-email-390.png"), full_page=True)
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        header = page.locator(".doc-header").bounding_box()
        agency = page.locator(".doc-header .agency").bounding_box()
        nation_box = nation.bounding_box()
        assert header and agency and nation_box
        # In print the two blocks sit side by side, as on a paper document.
        assert abs(agency["y"] - nation_box["y"]) < 5
        page.pdf(path=str(ARTIFACTS / "late-report-print.pdf"))
