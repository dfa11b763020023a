"""Office accounts and sign-in, over real HTTP against the app served by uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Cli
from fakes.smtp import SmtpSink
from sqlmodel import col, select
from web_support import (
    ADMIN,
    PASSWORD,
    VIEWER,
    Site,
    agency_id,
    assignment_of,
    csrf_of,
    log_in,
    serve_site,
)

from dondoc.chat_actions import request_extension
from dondoc.clock import ManualClock
from dondoc.models import AuditEntry, ExtensionRequest
from dondoc.models_web import LoginFailure
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    with serve_site(tmp_path, smtp_sink) as served:
        yield served


def audit_actions(site: Site, prefix: str) -> list[AuditEntry]:
    with session_scope(site.app.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.action).startswith(prefix))
                .order_by(col(AuditEntry.id))
            ).all()
        )


def test_pages_need_a_signed_in_user(site: Site) -> None:
    with site.client() as client:
        response = client.get("/")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/"
        assert client.get("/plans/test").status_code == 303


def test_signing_in_sets_an_http_only_same_site_cookie_and_is_audited(site: Site) -> None:
    with site.client() as client:
        response = log_in(client, ADMIN)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie  # the public address is http:// in this test
        overview = client.get("/")
        assert overview.status_code == 200
        assert "Tổng quan" in overview.text and ADMIN in overview.text
    assert [e.actor for e in audit_actions(site, "web.login")] == [f"web:{ADMIN}"]


def test_the_cookie_is_secure_when_the_public_address_is_https(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with (
        serve_site(tmp_path, smtp_sink, public_url="https://vp.tinhmau.example") as served,
        served.client() as client,
    ):
        # The login page already sets the session (its CSRF token) with the Secure flag.
        assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    with site.client() as client:
        client.get("/login")
        response = client.post(
            "/login", data={"csrf": "forged", "name": ADMIN, "password": PASSWORD}
        )
        assert response.status_code == 403
        assert "Biểu mẫu không hợp lệ" in response.text
    assert audit_actions(site, "web.login") == []


def test_failed_sign_ins_are_throttled_per_account(site: Site) -> None:
    with site.client() as client:
        for _ in range(5):
            response = log_in(client, ADMIN, "sai-mat-khau-1")
            assert response.status_code == 401
            assert "không đúng" in response.text
        # Even the right password now waits: the account is being guessed at.
        response = log_in(client, ADMIN)
        assert response.status_code == 429
        assert "thử lại sau khoảng 15 phút" in response.text
        # Another account from the same address still signs in.
        assert log_in(client, VIEWER).status_code == 303
    assert len(audit_actions(site, "web.login_failed")) == 5
    assert len(audit_actions(site, "web.login_throttled")) == 1


def test_failed_sign_ins_are_throttled_per_address(site: Site) -> None:
    with site.client() as client:
        for n in range(20):
            assert log_in(client, f"khong-co-{n}", "sai-mat-khau-1").status_code == 401
        assert log_in(client, VIEWER).status_code == 429


def test_a_viewer_cannot_approve_an_extension(site: Site) -> None:
    app = site.app
    assignment = assignment_of(app, "so-tu-phap")
    with session_scope(app.engine) as session:
        outcome = request_extension(
            session,
            assignment_id=assignment,
            reason="Chờ ý kiến Bộ",
            proposed_due=app.clock.now().date().replace(year=2023, month=3, day=31),
            today=app.clock.now().date(),
            actor="Sở Tư pháp",
            now=app.clock.now(),
            link_agency_id=agency_id(app, "so-tu-phap"),
        )
        assert outcome.status == "extension_sent"
        request_id = session.exec(select(ExtensionRequest.id)).one()
    with site.client() as client:
        assert log_in(client, VIEWER).status_code == 303
        task_page = client.get("/tasks/1")
        assert "Đồng ý gia hạn" not in task_page.text
        assert "Tài khoản chỉ xem" in task_page.text
        response = client.post(
            f"/extensions/{request_id}/approve", data={"csrf": csrf_of(task_page.text)}
        )
        assert response.status_code == 403
    with session_scope(app.engine) as session:
        assert session.get(ExtensionRequest, request_id).status == "pending"  # type: ignore[union-attr]


def test_office_accounts_are_managed_from_the_command_line(cli: Cli) -> None:
    assert cli("init").exit_code == 0
    added = cli("user", "add", "nguyen.van.a", "--role", "admin", input="mat-khau-dai-123\n" * 2)
    assert added.exit_code == 0, added.stderr
    assert "Đã thêm tài khoản nguyen.van.a (admin)" in added.stdout
    assert "mat-khau-dai-123" not in added.stdout
    again = cli("user", "add", "nguyen.van.a", "--role", "viewer", input="mat-khau-dai-123\n" * 2)
    assert again.exit_code == 2 and "đã có" in again.stderr
    bad_role = cli("user", "add", "b", "--role", "boss", input="mat-khau-dai-123\n" * 2)
    assert bad_role.exit_code == 2 and "--role phải là một trong: admin, viewer" in bad_role.stderr
    short = cli("user", "add", "c", "--role", "viewer", input="ngan\nngan\n")
    assert short.exit_code == 2 and "ít nhất 10 ký tự" in short.stderr
    assert cli("user", "disable", "nguyen.van.a").exit_code == 0
    listed = cli("user", "list")
    assert "nguyen.van.a" in listed.stdout and "đã khóa" in listed.stdout
    missing = cli("user", "disable", "khong-co")
    assert missing.exit_code == 2 and "Không tìm thấy tài khoản 'khong-co'" in missing.stderr


def test_dondoc_web_serves_the_login_page_on_its_own(cli: Cli) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    assert cli("init").exit_code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "dondoc", "web", "--port", str(port)],
        env=cli.env,
        cwd=cli.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert page.status_code == 200 and "Đăng nhập" in page.text
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert f"Trang web: http://127.0.0.1:{port}/" in out
    secret = (cli.cwd / "data" / "secret_key").read_text().strip()
    assert secret not in out + err


def test_sign_in_never_redirects_to_another_site_and_the_throttle_lifts(site: Site) -> None:
    clock = site.app.clock
    assert isinstance(clock, ManualClock)
    with site.client() as client:
        for _ in range(5):
            log_in(client, ADMIN, "sai-mat-khau-1")
        assert log_in(client, ADMIN).status_code == 429
        clock.advance(timedelta(minutes=16))
        for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            page = client.get("/login")
            response = client.post(
                "/login",
                data={
                    "csrf": csrf_of(page.text),
                    "name": ADMIN,
                    "password": PASSWORD,
                    "next": target,
                },
            )
            assert response.status_code == 303
            assert response.headers["location"] == "/"
    with session_scope(site.app.engine) as session:
        assert session.exec(select(LoginFailure)).all() == []  # old failures are pruned
