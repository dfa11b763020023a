"""Pages in the reader's language: an office user's locale (vi by default, en on request),
an agency's answer pages in the agency's locale; over real HTTP and the real CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli
from daemon_support import at, simulate
from fakes.smtp import SmtpSink
from sqlmodel import select
from web_support import ADMIN, PASSWORD, SECRET, Site, agency_id, csrf_of, log_in, serve_site

from dondoc.models import Agency, AuditEntry
from dondoc.models_web import OfficeUser
from dondoc.store import session_scope
from dondoc.web import answers, app, office
from dondoc.web.accounts import add_user
from dondoc.web.i18n import EN
from dondoc.web.links import Links, Signer, current_grant, revoke_links

pytest_plugins = ["fakes.fixtures"]

TEMPLATES = Path(app.__file__).parent / "templates"
ENGLISH = "reader.en"
PHRASE = re.compile(r"""\bt\(\s*(?:"([^"]*)"|'([^']*)')""")


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    with serve_site(tmp_path, smtp_sink) as served:
        with session_scope(served.app.engine) as session:
            add_user(
                session,
                name=ENGLISH,
                role="viewer",
                password=PASSWORD,
                actor="t",
                now=served.app.clock.now(),
                locale="en",
            )
        simulate(served.app, at("2023-01-04"))
        yield served


def _template_phrases() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        for double, single in PHRASE.findall(path.read_text(encoding="utf-8")):
            found.add(double or single)
    return found


def test_every_phrase_of_the_pages_has_an_english_translation() -> None:
    phrases = _template_phrases()
    assert len(phrases) > 100
    python_side = {
        *app.STATUS_LABELS.values(),
        *app.ROLE_LABELS.values(),
        *office.TEMPLATE_LABELS.values(),
        *answers.TITLES.values(),
        *(v for v in answers.OUTCOMES.values() if v != "{message}"),
    }
    missing = sorted(p for p in phrases | python_side if p not in EN)
    assert missing == []
    # Placeholders survive translation: {day} in Vietnamese is {day} in English.
    for vietnamese, english in EN.items():
        assert set(re.findall(r"{\w+}", vietnamese)) == set(re.findall(r"{\w+}", english)), (
            vietnamese
        )


def test_an_english_user_reads_every_office_page_in_english(site: Site) -> None:
    with site.client() as client:
        log_in(client, ENGLISH)
        pages = {
            path: client.get(path)
            for path in ("/", "/plans/test", "/tasks/1", "/agencies/so-tu-phap", "/late", "/rules")
        }
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text, path
        assert "Sign out" in page.text and "Đăng xuất" not in page.text, path
    overview = pages["/"].text
    assert "Overview, 4 Jan 2023" in overview
    assert '<td>Not done, overdue</td><td class="num">2</td>' in overview
    assert "Agencies with the most overdue tasks" in overview
    assert "Sent this week (from 2 Jan 2023)" in overview and "Overdue (email): 3" in overview
    plan = pages["/plans/test"].text
    assert "Deadline (as written)" in plan and "(Lead)" in plan and "Not acknowledged" in plan
    # The deadline as understood, in English too (rules.deadline describes both).
    assert "Hạn chót ngày" not in plan
    assert "Extension requests" in pages["/tasks/1"].text
    assert "Recent messages" in pages["/agencies/so-tu-phap"].text
    assert "Agencies late with their tasks" in pages["/late"].text
    assert "Reminder rules in force" in pages["/rules"].text


def test_a_vietnamese_user_reads_the_same_pages_in_vietnamese(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/")
    assert '<html lang="vi">' in page.text
    assert "Tổng quan ngày 04/01/2023" in page.text and "Sign out" not in page.text


def test_a_user_switches_language_from_the_page_and_it_is_kept_and_audited(
    site: Site,
) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/plans/test")
        token = csrf_of(page.text)
        switched = client.post(
            "/account/locale", data={"csrf": token, "locale": "en", "next": "/plans/test"}
        )
        assert switched.status_code == 303 and switched.headers["location"] == "/plans/test"
        assert '<html lang="en">' in client.get("/plans/test").text
        elsewhere = client.post(
            "/account/locale", data={"csrf": token, "locale": "vi", "next": "//evil.test/"}
        )
        assert elsewhere.headers["location"] == "/"
        unknown = client.post("/account/locale", data={"csrf": token, "locale": "fr"})
        forged = client.post("/account/locale", data={"csrf": "x", "locale": "en"})
    assert unknown.status_code == 400 and forged.status_code == 403
    with session_scope(site.app.engine) as session:
        user = session.exec(select(OfficeUser).where(OfficeUser.name == ADMIN)).one()
        changes = session.exec(
            select(AuditEntry).where(AuditEntry.action == "user.locale_changed")
        ).all()
    assert user.locale == "vi"
    assert [(e.actor, e.detail["locale"]) for e in changes] == [
        (f"web:{ADMIN}", "en"),
        (f"web:{ADMIN}", "vi"),
    ]


def test_an_agency_answer_page_follows_the_agency_locale(site: Site) -> None:
    with session_scope(site.app.engine) as session:
        agency = session.exec(select(Agency).where(Agency.code == "so-tu-phap")).one()
        agency.locale = "en"
        session.add(agency)
    links = Links(site.url, Signer(SECRET, clock=site.app.clock))
    with session_scope(site.app.engine) as session:
        address = links.portal(current_grant(session, agency_id(site.app, "so-tu-phap")))
    with site.client() as client:
        portal = client.get(address)
        assert portal.status_code == 200
        first = re.search(r'href="(/p/[^"]+/extend)"', portal.text)
        assert first is not None
        form = client.get(first.group(1))
        empty = client.post(first.group(1), data={"csrf": csrf_of(form.text), "reason": ""})
    assert '<html lang="en">' in portal.text and "Tasks of Sở Tư pháp" in portal.text
    assert "Ask for an extension" in form.text and "Why an extension is needed" in form.text
    assert empty.status_code == 422 and "Please give the reason for the extension." in empty.text
    with session_scope(site.app.engine) as session:
        revoke_links(session, agency_code="so-tu-phap", actor="t", now=site.app.clock.now())
    with site.client() as client:
        revoked = client.get(address)
    assert revoked.status_code == 410 and '<html lang="en">' in revoked.text
    assert "This link was revoked. Please contact the office for a new one." in revoked.text


def test_office_accounts_get_a_language_from_the_command_line(cli: Cli) -> None:
    assert cli("init").exit_code == 0
    added = cli(
        "user", "add", "tran.thi.b", "--role", "viewer", "--locale", "en",
        input="mat-khau-dai-123\n" * 2,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    wrong = cli(
        "user", "add", "le.van.c", "--role", "viewer", "--locale", "fr",
        input="mat-khau-dai-123\n" * 2,
    )  # fmt: skip
    assert wrong.exit_code != 0 and "en" in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr
    listed = json.loads(cli("user", "list", "--json").stdout)
    assert [(u["name"], u["locale"]) for u in listed] == [("tran.thi.b", "en")]
    assert cli("user", "set-locale", "tran.thi.b", "vi").exit_code == 0
    listed = json.loads(cli("user", "list", "--json").stdout)
    assert [(u["name"], u["locale"]) for u in listed] == [("tran.thi.b", "vi")]
    missing = cli("user", "set-locale", "khong-co", "en")
    assert missing.exit_code != 0 and "Traceback" not in missing.stderr
