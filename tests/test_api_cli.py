"""`dondoc token create|list|revoke` driven as a user runs them (a subprocess), and the
token it prints opening the API served by the real `dondoc web`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
from conftest import Cli


def test_a_token_is_printed_once_listed_without_itself_and_revoked(initialized_cli: Cli) -> None:
    cli = initialized_cli
    made = cli("token", "create", "He-Thong-VPCP", "--scope", "write", "--plan", "nq131")
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("ddk_") and len(token) > 40 and "\n" not in token
    assert "chỉ hiện một lần" in made.stderr
    limited = cli("token", "create", "stp", "--scope", "read", "--agency", "so-tu-phap")
    assert limited.exit_code == 0, limited.stderr
    listed = cli("token", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["scope"], r["plan"], r["agency"]) for r in rows] == [
        ("he-thong-vpcp", "write", "nq131", None),
        ("stp", "read", None, "so-tu-phap"),
    ]
    assert token not in listed.stdout and token not in cli("token", "list").stdout
    revoked = cli("token", "revoke", "he-thong-vpcp")
    assert revoked.exit_code == 0 and "Đã thu hồi" in revoked.stdout
    again = cli("token", "revoke", "he-thong-vpcp")
    assert again.exit_code == 0 and "trước đó" in again.stdout
    assert json.loads(cli("token", "list", "--json").stdout)[0]["revoked_at"] is not None


def test_mistakes_are_one_clear_line_and_change_nothing(initialized_cli: Cli) -> None:
    cli = initialized_cli
    cases = [
        (("token", "create", "a", "--scope", "admin"), "--scope phải là một trong: read, write"),
        (("token", "create", "a", "--scope", "read", "--plan", "khong-co"), "kế hoạch 'khong-co'"),
        (("token", "create", "a", "--scope", "read", "--agency", "khong-co"), "cơ quan 'khong-co'"),
        (("token", "create", "Tên có dấu", "--scope", "read"), "không hợp lệ"),
        (("token", "revoke", "khong-co"), "mã truy cập 'khong-co'"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stdout)
        assert result.stderr.startswith("Lỗi: ") and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert cli("token", "create", "a", "--scope", "read").exit_code == 0
    duplicate = cli("token", "create", "a", "--scope", "write")
    assert duplicate.exit_code == 2 and "Đã có mã truy cập tên 'a'" in duplicate.stderr
    assert json.loads(cli("token", "list", "--json").stdout)[0]["scope"] == "read"


def test_the_printed_token_opens_the_api_of_dondoc_web(initialized_cli: Cli) -> None:
    cli = initialized_cli
    token = cli("token", "create", "doc", "--scope", "read").stdout.strip()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "dondoc", "web", "--host", "127.0.0.1", "--port", str(port)],
        env=cli.env,
        cwd=cli.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        good = httpx.get(f"{base}/plans", headers={"Authorization": f"Bearer {token}"})
        bad = httpx.get(f"{base}/plans", headers={"Authorization": f"Bearer {token}x"})
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert good.status_code == 200 and [p["code"] for p in good.json()["items"]] == ["nq131"]
    assert bad.status_code == 401
    listed = json.loads(cli("token", "list", "--json").stdout)
    assert listed[0]["last_used_at"] is not None
