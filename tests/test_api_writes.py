"""Writes over real HTTP, on SQLite and PostgreSQL: the shared chat actions with their
audit entries and office notices, and an `Idempotency-Key` retry that changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import assignment_ids, audits, client, count, is_problem, make_token, serve_api
from fakes.smtp import SmtpSink
from sqlmodel import col

from dondoc.app import App
from dondoc.models import (
    Assignment,
    AuditEntry,
    Explanation,
    ExtensionRequest,
    OutboxMessage,
)
from dondoc.models_api import ApiIdempotency
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture
def served(store_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[tuple[App, str]]:
    with serve_api(tmp_path, smtp_sink, store_url=store_url) as found:
        # January 2023: the plan's December 2022 tasks are overdue.
        found[0].clock.advance(timedelta(days=70))  # type: ignore[attr-defined]
        yield found


def _state(app: App, assignment_id: int) -> dict[str, Any]:
    """Everything a write may change, to compare before and after a retry."""
    with session_scope(app.engine) as session:
        row = session.get(Assignment, assignment_id)
        assert row is not None
        return {
            "assignment": row.model_dump(),
            "audit": count(app, AuditEntry),
            "explanations": count(app, Explanation),
            "extensions": count(app, ExtensionRequest),
            "outbox": count(app, OutboxMessage),
            "remembered": count(app, ApiIdempotency),
        }


def _overdue_lead(base: str, token: str) -> dict[str, Any]:
    with client(base, token) as http:
        page = http.get(
            "/assignments",
            params={"agency": "so-tu-phap", "category": "overdue", "limit": 1},
        )
    assert page.status_code == 200, page.text
    found: dict[str, Any] = page.json()["items"][0]
    return found


WRITES = [
    ("acknowledge", None),
    ("notes", {"text": "Đã hoàn thành dự thảo, đang lấy ý kiến."}),
    ("explanations", {"text": "Chậm do chờ ý kiến của các sở."}),
    ("extension-requests", {"reason": "Cần thêm thời gian", "proposed_due": "2023-03-31"}),
    ("done", {}),
]


@pytest.mark.parametrize(("action", "body"), WRITES, ids=[w[0] for w in WRITES])
def test_a_retried_write_changes_nothing_and_answers_the_same(
    served: tuple[App, str], action: str, body: dict[str, Any] | None
) -> None:
    app, base = served
    token = make_token(app, "vpcp", "write")
    target = _overdue_lead(base, token)
    path = f"/assignments/{target['id']}/{action}"
    with client(base, token, **{"Idempotency-Key": f"key-{action}"}) as http:
        first = http.post(path, json=body) if body is not None else http.post(path)
        assert first.status_code == 200, first.text
        after_first = _state(app, target["id"])
        retried = http.post(path, json=body) if body is not None else http.post(path)
        after_retry = _state(app, target["id"])
    assert retried.status_code == 200
    assert retried.json() == first.json()
    assert retried.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert after_retry == after_first
    assert after_first["remembered"] == 1
    # The shared action's own audit entry, by the token, through the API.
    actions = {
        "acknowledge": "assignment.acknowledged",
        "notes": "assignment.note",
        "explanations": "assignment.explanation",
        "extension-requests": "extension.requested",
        "done": "assignment.done",
    }
    entries = audits(app, actions[action])
    assert len(entries) == 1
    assert entries[0].actor == "api:vpcp" and entries[0].assignment_id == target["id"]


def test_the_same_key_with_another_request_is_refused(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "vpcp", "write")
    target = _overdue_lead(base, token)
    path = f"/assignments/{target['id']}/notes"
    with client(base, token, **{"Idempotency-Key": "same"}) as http:
        assert http.post(path, json={"text": "Lần một"}).status_code == 200
        before = _state(app, target["id"])
        body = is_problem(http.post(path, json={"text": "Lần hai"}), 422)
        is_problem(http.post(f"/assignments/{target['id']}/acknowledge"), 422)
    assert "đã được dùng cho một yêu cầu khác" in body["detail"]
    assert _state(app, target["id"]) == before
    # Another token has keys of its own.
    other = make_token(app, "khac", "write")
    with client(base, other, **{"Idempotency-Key": "same"}) as http:
        assert http.post(path, json={"text": "Lần hai"}).status_code == 200


def test_explanations_and_extensions_reach_the_office_like_chat_answers(
    served: tuple[App, str],
) -> None:
    app, base = served
    token = make_token(app, "stp", "write", agency="so-tu-phap")
    target = _overdue_lead(base, token)
    notices_before = count(app, OutboxMessage, col(OutboxMessage.kind) == "notice")
    with client(base, token) as http:
        explained = http.post(
            f"/assignments/{target['id']}/explanations",
            json={"text": "Chậm do chờ ý kiến."},
            headers={"Idempotency-Key": "e1"},
        )
        asked = http.post(
            f"/assignments/{target['id']}/extension-requests",
            json={"reason": "Cần thêm thời gian", "proposed_due": "2023-03-31"},
            headers={"Idempotency-Key": "x1"},
        )
        again = http.post(
            f"/assignments/{target['id']}/extension-requests",
            json={"reason": "Lần nữa", "proposed_due": "2023-04-30"},
            headers={"Idempotency-Key": "x2"},
        )
        past = http.post(
            f"/assignments/{target['id']}/extension-requests",
            json={"reason": "Sai ngày", "proposed_due": "2022-01-01"},
            headers={"Idempotency-Key": "x3"},
        )
    assert explained.status_code == 200 and asked.status_code == 200
    assert explained.json()["assignment"]["explanations"][0]["via"] == "api"
    assert "31/03/2023" in asked.json()["message"]
    assert "đang chờ Văn phòng" in is_problem(again, 409)["detail"]
    is_problem(past, 422)
    # One notice per answer to the office, as the chat's answers make.
    assert count(app, OutboxMessage, col(OutboxMessage.kind) == "notice") == notices_before + 2
    assert count(app, ExtensionRequest) == 1


def test_reopen_by_an_office_token_reopens(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "vp", "write")
    target = _overdue_lead(base, token)
    with client(base, token) as http:
        http.post(f"/assignments/{target['id']}/done", headers={"Idempotency-Key": "d"})
        reopened = http.post(
            f"/assignments/{target['id']}/reopen", headers={"Idempotency-Key": "r"}
        )
        unchanged = http.post(
            f"/assignments/{target['id']}/reopen", headers={"Idempotency-Key": "r2"}
        )
    assert reopened.json()["outcome"] == "reopened"
    assert reopened.json()["assignment"]["status"] == "open"
    assert unchanged.json()["outcome"] == "already_open"
    entry = audits(app, "assignment.open")[-1]
    assert (entry.actor, entry.detail["via"]) == ("api:vp", "api")


def test_the_same_key_sent_at_once_is_done_once(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "vpcp", "write")
    target = _overdue_lead(base, token)
    path = f"/assignments/{target['id']}/notes"
    answers: list[int] = []

    def send() -> None:
        with client(base, token, **{"Idempotency-Key": "together"}) as http:
            answers.append(http.post(path, json={"text": "Cùng lúc"}).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4
    assert len(audits(app, "assignment.note")) == 1
    assert count(app, ApiIdempotency) == 1


def test_pages_and_events_hold_on_each_backend(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "vpcp", "write")
    with client(base, token) as http:
        seen: list[int] = []
        url: str | None = "/assignments?limit=45"
        while url is not None:
            page = http.get(url).json()
            seen += [a["id"] for a in page["items"]]
            url = page["next"]
        start = http.get("/events").json()["last_id"]
        target = _overdue_lead(base, token)["id"]
        http.post(f"/assignments/{target}/acknowledge", headers={"Idempotency-Key": "a"})
        http.post(f"/assignments/{target}/done", headers={"Idempotency-Key": "d"})
        events = http.get("/events", params={"after": start}).json()["items"]
    assert seen == assignment_ids(app) and len(seen) == 464
    assert [(e["type"], e["assignment_id"]) for e in events] == [
        ("assignment.acknowledged", target),
        ("assignment.done", target),
    ]
