"""Answers by signed link, over real HTTP: a GET shows, only a POST acts; bad links are
refused and audited; the portal lists an agency's open tasks and can be revoked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import Cli
from fakes.smtp import SmtpSink
from sqlmodel import col, select
from web_support import SECRET, Site, agency_id, assignment_of, csrf_of, serve_site

from dondoc.clock import ManualClock
from dondoc.models import Assignment, AuditEntry, Explanation, ExtensionRequest, OutboxMessage
from dondoc.store import session_scope
from dondoc.web.links import Links, Signer, current_grant, revoke_links

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    with serve_site(tmp_path, smtp_sink) as served:
        yield served


def links_for(site: Site, agency: str, assignment: int) -> dict[str, str]:
    links = Links(site.url, Signer(SECRET, clock=site.app.clock))
    return links.answer(
        agency_id=agency_id(site.app, agency), assignment_id=assignment, occurrence=None
    )


def status_of(site: Site, assignment: int) -> str:
    with session_scope(site.app.engine) as session:
        row = session.get(Assignment, assignment)
        assert row is not None
        return row.status


def refusals(site: Site) -> list[AuditEntry]:
    with session_scope(site.app.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "link.refused")
                .order_by(col(AuditEntry.id))
            ).all()
        )


def test_opening_a_link_changes_nothing_and_pressing_the_button_acknowledges(site: Site) -> None:
    assignment = assignment_of(site.app, "so-tu-phap")
    link = links_for(site, "so-tu-phap", assignment)["ack"]
    with site.client() as client:
        page = client.get(link)
        assert page.status_code == 200
        assert "Xây dựng kế hoạch số hóa hồ sơ" in page.text
        assert "Xác nhận đã nhận" in page.text
        assert status_of(site, assignment) == "open"
        done = client.post(link, data={"csrf": csrf_of(page.text)})
        assert done.status_code == 200
        assert "Đã ghi nhận: cơ quan đã nhận nhiệm vụ" in done.text
    assert status_of(site, assignment) == "acknowledged"
    with session_scope(site.app.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "assignment.acknowledged")
        ).one()
    assert entry.detail["via"] == "email"
    assert entry.assignment_id == assignment


def test_an_explanation_and_an_extension_by_link_reach_the_office(site: Site) -> None:
    assignment = assignment_of(site.app, "so-tu-phap")
    made = links_for(site, "so-tu-phap", assignment)
    with site.client() as client:
        page = client.get(made["explain"])
        empty = client.post(made["explain"], data={"csrf": csrf_of(page.text), "text": "  "})
        assert empty.status_code == 422 and "Vui lòng nhập nội dung giải trình" in empty.text
        sent = client.post(
            made["explain"], data={"csrf": csrf_of(page.text), "text": "Chờ hướng dẫn của Bộ."}
        )
        assert "Đã gửi giải trình" in sent.text
        page = client.get(made["extend"])
        past = client.post(
            made["extend"],
            data={
                "csrf": csrf_of(page.text),
                "reason": "Chờ số liệu",
                "proposed_due": "2022-10-01",
            },
        )
        assert past.status_code == 422 and "phải sau hôm nay" in past.text
        asked = client.post(
            made["extend"],
            data={
                "csrf": csrf_of(page.text),
                "reason": "Chờ số liệu",
                "proposed_due": "2023-02-28",
            },
        )
        assert "Đã gửi đề nghị gia hạn đến ngày 28/02/2023" in asked.text
    with session_scope(site.app.engine) as session:
        explanation = session.exec(select(Explanation)).one()
        assert (explanation.text, explanation.via) == ("Chờ hướng dẫn của Bộ.", "email")
        request = session.exec(select(ExtensionRequest)).one()
        assert request.reason == "Chờ số liệu" and request.status == "pending"
        # The office is told exactly as for a Telegram answer: the same notices.
        notices = sorted(
            session.exec(select(OutboxMessage.template).where(OutboxMessage.kind == "notice")).all()
        )
        assert notices == ["explanation_received", "extension_request"]


def test_a_tampered_link_is_refused_and_audited(site: Site) -> None:
    assignment = assignment_of(site.app, "so-tu-phap")
    link = links_for(site, "so-tu-phap", assignment)["ack"]
    token = link.split("/r/")[1].split("/")[0]
    forged = link.replace(token, token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    with site.client() as client:
        page = client.get(forged)
        assert page.status_code == 403
        assert "Liên kết không hợp lệ" in page.text
    assert [e.detail["reason"] for e in refusals(site)] == ["bad_signature"]
    assert status_of(site, assignment) == "open"


def test_an_expired_link_is_refused_and_audited(site: Site) -> None:
    assignment = assignment_of(site.app, "so-tu-phap")
    link = links_for(site, "so-tu-phap", assignment)["ack"]
    clock = site.app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=61))
    with site.client() as client:
        page = client.get(link)
    assert page.status_code == 410 and "Liên kết đã hết hạn" in page.text
    [entry] = refusals(site)
    assert entry.detail["reason"] == "expired"
    assert entry.agency_id == agency_id(site.app, "so-tu-phap")


def test_a_link_naming_another_agencys_task_is_refused_and_audited(site: Site) -> None:
    other = assignment_of(site.app, "so-noi-vu", role="coordinator")
    link = links_for(site, "so-tu-phap", other)["done"]
    with site.client() as client:
        page = client.get(link)
    assert page.status_code == 403
    [entry] = refusals(site)
    assert entry.detail["reason"] == "not_assigned"
    assert status_of(site, other) == "open"


def test_the_portal_lists_open_tasks_refuses_others_and_stops_when_revoked(site: Site) -> None:
    app = site.app
    lead = assignment_of(app, "so-tu-phap")
    other = assignment_of(app, "so-noi-vu", role="coordinator")
    links = Links(site.url, Signer(SECRET, clock=app.clock))
    with session_scope(app.engine) as session:
        portal = links.portal(current_grant(session, agency_id(app, "so-tu-phap")))
    with site.client() as client:
        page = client.get(portal)
        assert page.status_code == 200
        assert "Nhiệm vụ của Sở Tư pháp" in page.text
        assert f"/a/{lead}/ack" in page.text
        assert "/cal/" in page.text
        foreign = client.get(f"{portal}/a/{other}/done")
        assert foreign.status_code == 403
        form = client.get(f"{portal}/a/{lead}/done")
        client.post(f"{portal}/a/{lead}/done", data={"csrf": csrf_of(form.text)})
        assert status_of(site, lead) == "done"
        with session_scope(app.engine) as session:
            revoke_links(session, agency_code="so-tu-phap", actor="cli", now=app.clock.now())
        assert client.get(portal).status_code == 410
    assert [e.detail["reason"] for e in refusals(site)] == ["not_assigned", "revoked"]


def test_agency_links_are_printed_and_revoked_from_the_command_line(cli: Cli) -> None:
    assert cli("init").exit_code == 0
    without = cli("agency", "link", "so-tu-phap")
    assert without.exit_code == 2 and "Chưa đặt DONDOC_PUBLIC_URL" in without.stderr
    cli.env["DONDOC_PUBLIC_URL"] = "https://dondoc.tinhmau.example"
    first = cli("agency", "link", "so-tu-phap")
    assert first.exit_code == 0, first.stderr
    assert "Trang riêng: https://dondoc.tinhmau.example/p/" in first.stdout
    assert "Lịch (iCalendar): https://dondoc.tinhmau.example/cal/" in first.stdout
    assert cli("agency", "link", "so-tu-phap").stdout == first.stdout  # stable until revoked
    revoked = cli("agency", "link", "so-tu-phap", "--revoke")
    assert revoked.exit_code == 0
    assert "Đã thu hồi các liên kết cũ của Sở Tư pháp" in revoked.stdout
    old_portal = first.stdout.split("Trang riêng: ")[1].split()[0]
    assert old_portal not in revoked.stdout
    missing = cli("agency", "link", "khong-co")
    assert missing.exit_code == 2 and "Không tìm thấy cơ quan 'khong-co'" in missing.stderr


def test_the_calendar_feed_lists_due_dates_and_stops_when_revoked(site: Site) -> None:
    from icalendar import Calendar

    app = site.app
    links = Links(site.url, Signer(SECRET, clock=app.clock))
    with session_scope(app.engine) as session:
        feed = links.calendar(current_grant(session, agency_id(app, "so-tu-phap")))
    with site.client() as client:
        response = client.get(feed)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        events = Calendar.from_ical(response.content).walk("VEVENT")
        assert [(str(e["summary"]), e.decoded("dtstart")) for e in events] == [
            ("Hạn: STT 1 Xây dựng kế hoạch số hóa hồ sơ", date(2022, 12, 31))
        ]
        assert client.get(feed.replace("/cal/", "/cal/x")).status_code == 403
        with session_scope(app.engine) as session:
            revoke_links(session, agency_code="so-tu-phap", actor="cli", now=app.clock.now())
        assert client.get(feed).status_code == 410
    assert [(e.detail["kind"], e.detail["reason"]) for e in refusals(site)] == [
        ("calendar", "bad_signature"),
        ("calendar", "revoked"),
    ]
