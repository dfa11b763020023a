"""`dondoc webhook …` driven as a user runs it: the real entry point in a subprocess,
`webhook test` against a real receiver on 127.0.0.1 that checks the signature."""

from __future__ import annotations

import json
import re
import time

import pytest
from conftest import Cli
from webhook_support import Receiver


@pytest.fixture
def store_cli(cli: Cli) -> Cli:
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    return cli


def test_add_prints_the_secret_once_and_list_never_shows_it(store_cli: Cli) -> None:
    added = store_cli(
        "webhook", "add", "https://hethong.tinhmau.test/dondoc", "--events",
        "assignment.done,extension.requested",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    secrets = re.findall(r"whsec_[A-Za-z0-9_-]{20,}", added.stdout)
    assert len(secrets) == 1
    assert "webhook #1" in added.stdout and "assignment.done, extension.requested" in added.stdout

    listed = store_cli("webhook", "list")
    assert listed.exit_code == 0 and "hethong.tinhmau.test" in listed.stdout
    as_json = store_cli("webhook", "list", "--json")
    rows = json.loads(as_json.stdout)
    assert rows[0]["url"] == "https://hethong.tinhmau.test/dondoc"
    assert rows[0]["events"] == ["assignment.done", "extension.requested"]
    for output in (listed.stdout + listed.stderr, as_json.stdout + as_json.stderr):
        assert secrets[0] not in output and "whsec_" not in output
    assert "secret" not in rows[0]

    given = store_cli(
        "webhook", "add", "http://lienthong.tinhmau.test/hook", "--secret", "a-shared-secret-0123"
    )
    assert given.exit_code == 0, given.stderr
    assert "a-shared-secret-0123" not in given.stdout  # the user typed it; never echoed
    assert "tất cả" in given.stdout


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(store_cli: Cli) -> None:
    # Every rule of the fields is tested in-process (test_webhook_store.py); here the
    # CLI's side: the message, the exit code, no traceback, nothing half-written.
    for args, expected in [
        (["ftp://files.tinhmau.test/x"], "Lỗi: URL 'ftp://files.tinhmau.test/x': chỉ nhận"),
        (["https://hethong.tinhmau.test/", "--events", "task.deleted"], "--events: 'task.deleted'"),
    ]:
        result = store_cli("webhook", "add", *args)
        assert result.exit_code == 2
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    assert json.loads(store_cli("webhook", "list", "--json").stdout) == []


def test_a_url_is_registered_once_and_removed_by_url_or_id(store_cli: Cli) -> None:
    url = "https://hethong.tinhmau.test/dondoc"
    assert store_cli("webhook", "add", url).exit_code == 0
    again = store_cli("webhook", "add", url)
    assert again.exit_code == 2 and "đã được đăng ký" in again.stderr
    removed = store_cli("webhook", "remove", url)
    assert removed.exit_code == 0 and f"Đã gỡ webhook {url}" in removed.stdout
    missing = store_cli("webhook", "remove", "1")
    assert missing.exit_code == 2 and "Không tìm thấy webhook '1'" in missing.stderr


def test_webhook_test_sends_a_signed_sample_and_prints_the_answer(store_cli: Cli) -> None:
    with Receiver("placeholder", now=time.time) as receiver:
        added = store_cli("webhook", "add", receiver.url)
        [secret] = re.findall(r"whsec_[A-Za-z0-9_-]{20,}", added.stdout)
        receiver.secret = secret
        result = store_cli("webhook", "test", receiver.url)
        assert result.exit_code == 0, result.stderr
        assert "HTTP 200" in result.stdout and '{"ok": true}' in result.stdout
        [got] = receiver.received
        assert got.verified
        assert got.headers["X-Dondoc-Event"] == "webhook.test"
        assert got.json()["type"] == "webhook.test"
        assert got.headers["X-Dondoc-Delivery"].startswith("webhook:test:")
        # By id too.
        assert store_cli("webhook", "test", "1").exit_code == 0
        assert len(receiver.accepted) == 2


def test_webhook_test_reports_a_refusal_in_vietnamese_with_a_failing_exit(store_cli: Cli) -> None:
    with Receiver("whsec_the-receiver-expects-this-one", now=time.time) as receiver:
        store_cli("webhook", "add", receiver.url, "--secret", "whsec_but-dondoc-has-this-one")
        result = store_cli("webhook", "test", receiver.url)
        assert result.exit_code != 0
        assert "Gửi thử tới" in result.stderr and "không thành công" in result.stderr
        assert "HTTP 401" in result.stderr and "Traceback" not in result.stderr
        assert [r.status for r in receiver.received] == [401]
        # An unregistered URL needs --secret; with it the sample is signed with that.
        store_cli("webhook", "remove", receiver.url)
        bare = store_cli("webhook", "test", receiver.url)
        assert bare.exit_code == 2 and "chưa được đăng ký" in bare.stderr
        ok = store_cli(
            "webhook", "test", receiver.url, "--secret", "whsec_the-receiver-expects-this-one"
        )
        assert ok.exit_code == 0, ok.stderr
        assert [r.status for r in receiver.received] == [401, 200]


def test_webhook_test_to_a_receiver_that_is_down_fails_clearly(store_cli: Cli) -> None:
    with Receiver("x" * 20, now=time.time) as receiver:
        url = receiver.url
    result = store_cli("webhook", "test", url, "--secret", "x" * 20)
    assert result.exit_code != 0
    assert f"Gửi thử tới {url} không thành công" in result.stderr
    assert "Không kết nối được" in result.stderr and "Traceback" not in result.stderr
