"""/api/v1 over real HTTP: every request needs a good token, bad ones are throttled, and
scopes and plan/agency limits are refused (and audited) where they should be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import audits, client, count, is_problem, make_token, serve_api
from fakes.smtp import SmtpSink

from dondoc.api.tokens import MAX_FAILURES_PER_ADDRESS, revoke_token
from dondoc.app import App
from dondoc.models import Assignment, AuditEntry
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture
def served(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[tuple[App, str]]:
    with serve_api(tmp_path, smtp_sink) as found:
        yield found


def _status_of(app: App, assignment_id: int) -> str:
    with session_scope(app.engine) as session:
        row = session.get(Assignment, assignment_id)
        assert row is not None
        return row.status


def test_requests_without_a_good_token_are_refused_with_a_problem(
    served: tuple[App, str],
) -> None:
    app, base = served
    token = make_token(app, "old")
    with session_scope(app.engine) as session:
        revoke_token(session, name="old", actor="test", now=app.clock.now())
    for headers in (
        {},
        {"Authorization": "Bearer ddk_wrong"},
        {"Authorization": token},
        {"Authorization": f"Bearer {token}"},
    ):
        with client(base, **headers) as http:
            response = http.get("/plans")
        body = is_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body["title"] == "Chưa xác thực"
        assert "mã truy cập" in body["detail"]
    reasons = [entry.detail["reason"] for entry in audits(app, "api.auth_failed")]
    assert reasons == ["missing", "unknown", "missing", "revoked"]
    assert token not in str([entry.detail for entry in audits(app, "api.auth_failed")])


def test_bad_tokens_from_one_address_are_throttled_even_with_a_good_token_after(
    served: tuple[App, str],
) -> None:
    app, base = served
    good = make_token(app, "good")
    with client(base, "ddk_guess") as http:
        for _ in range(MAX_FAILURES_PER_ADDRESS):
            assert http.get("/plans").status_code == 401
        body = is_problem(http.get("/plans"), 429)
    assert "thử lại sau" in body["detail"]
    with client(base, good) as http:
        refused = http.get("/plans")
    is_problem(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    assert len(audits(app, "api.throttled")) == 2
    # A quarter of an hour later the address may try again.
    app.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    with client(base, good) as http:
        assert http.get("/plans").status_code == 200


def test_a_read_token_cannot_write_and_the_refusal_is_audited(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "reader", "read")
    before = count(app, AuditEntry)
    with client(base, token, **{"Idempotency-Key": "k1"}) as http:
        body = is_problem(http.post("/assignments/1/acknowledge"), 403)
        files = {"file": ("x.csv", b"STT,Nhiem vu\n")}
        is_problem(http.post("/plans/import", files=files), 403)
    assert "chỉ có quyền đọc" in body["detail"]
    assert _status_of(app, 1) == "open"
    refused = audits(app, "api.refused")
    assert [(e.actor, e.detail["reason"]) for e in refused] == [
        ("api:reader", "read_scope"),
        ("api:reader", "read_scope"),
    ]
    assert count(app, AuditEntry) == before + 2


def test_an_agency_token_sees_and_changes_only_its_agency(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "stp", "write", agency="so-tu-phap")
    with client(base, token) as http:
        mine = http.get("/assignments", params={"limit": 500}).json()["items"]
        assert mine and {a["agency_code"] for a in mine} == {"so-tu-phap"}
        tasks = http.get("/tasks", params={"limit": 500}).json()["items"]
        assert tasks and all(sum(t["counts"]["assignments"].values()) == 1 for t in tasks)
        task = http.get(f"/tasks/{tasks[0]['id']}").json()
        assert [a["agency_code"] for a in task["assignments"]] == ["so-tu-phap"]
        agencies = http.get("/agencies").json()["items"]
        assert [a["code"] for a in agencies] == ["so-tu-phap"]
        is_problem(http.get("/assignments", params={"agency": "so-noi-vu"}), 403)
        others = http.get("/assignments", params={"agency": "so-tu-phap"}).json()["items"]
        assert [a["id"] for a in others] == [a["id"] for a in mine[:100]]
    # Someone else's assignment: neither readable nor writable.
    with client(base, make_token(app, "office")) as http:
        everything = http.get("/assignments", params={"limit": 500}).json()["items"]
    theirs = next(a for a in everything if a["agency_code"] == "so-noi-vu")
    # A one-off deadline (a recurring one is done one occurrence at a time).
    own = next(a for a in mine if a["deadline_text"] == "Tháng 12/2022")
    with client(base, token, **{"Idempotency-Key": "a"}) as http:
        is_problem(http.get(f"/assignments/{theirs['id']}"), 403)
        body = is_problem(http.post(f"/assignments/{theirs['id']}/done"), 403)
        assert "cơ quan khác" in body["detail"]
        is_problem(http.post(f"/assignments/{own['id']}/reopen"), 403)  # the office's call
    assert _status_of(app, theirs["id"]) == "open"
    with client(base, token, **{"Idempotency-Key": "b"}) as http:
        done = http.post(f"/assignments/{own['id']}/done")
    assert done.status_code == 200, done.text
    assert _status_of(app, own["id"]) == "done"
    reasons = [e.detail["reason"] for e in audits(app, "api.refused")]
    assert reasons == ["agency_limit", "agency_limit", "agency_limit", "office_only"]
    entry = audits(app, "assignment.done")[-1]
    assert (entry.actor, entry.detail["via"], entry.assignment_id) == ("api:stp", "api", own["id"])


def test_a_plan_token_sees_only_its_plan(served: tuple[App, str], tmp_path: Path) -> None:
    app, base = served
    office = make_token(app, "office", "write")
    other = tmp_path / "khac.csv"
    other.write_text(
        "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành\n"
        "1,Rà soát hồ sơ,Sở Tư pháp,,Báo cáo,Tháng 6/2023\n",
        encoding="utf-8",
    )
    with client(base, office) as http:
        uploaded = http.post("/plans/import", files={"file": ("khac.csv", other.read_bytes())})
        assert uploaded.status_code == 200, uploaded.text
    token = make_token(app, "only-khac", plan="khac")
    with client(base, token) as http:
        plans = http.get("/plans").json()["items"]
        assert [p["code"] for p in plans] == ["khac"]
        rows = http.get("/assignments").json()["items"]
        assert [(a["plan"], a["agency_code"]) for a in rows] == [("khac", "so-tu-phap")]
        is_problem(http.get("/assignments", params={"plan": "test"}), 403)
        is_problem(http.get("/tasks/1"), 403)
        is_problem(http.get(f"/plans/{plans[0]['id'] - 1}"), 403)
        assert http.get(f"/plans/{plans[0]['id']}").status_code == 200
        sections = http.get("/sections").json()["items"]
        assert {s["plan"] for s in sections} == {"khac"}
    assert [e.detail["reason"] for e in audits(app, "api.refused")] == ["plan_limit"] * 3


def test_the_web_pages_stay_html_beside_the_api(served: tuple[App, str]) -> None:
    _, base = served
    with client(base.removesuffix("/api/v1")) as http:
        page = http.get("/login")
        described = http.get("/api/v1/openapi.json")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    paths = described.json()["paths"]
    assert "/assignments/{assignment_id}/done" in paths and "/plans/import" in paths
    assert "/login" not in paths
