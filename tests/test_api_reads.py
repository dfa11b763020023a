"""Reads over real HTTP: cursor pages walk every row exactly once, filters keep what they
say, errors are problem+json, and the event feed gives changes in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from api_support import assignment_ids, client, is_problem, make_token, serve_api
from fakes.smtp import SmtpSink
from sqlmodel import col, select

from dondoc.app import App
from dondoc.models import Task
from dondoc.store import session_scope
from rules.status import Category


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, str]]:
    # One store for the module: the reads change nothing (the feed's test writes only
    # notes and acknowledgements, which no other test here counts).
    with SmtpSink() as sink, serve_api(tmp_path_factory.mktemp("api"), sink) as found:
        # January 2023: some of the plan's tasks are overdue, others still in time.
        found[0].clock.advance(timedelta(days=70))  # type: ignore[attr-defined]
        yield found


@pytest.fixture(scope="module")
def token(served: tuple[App, str]) -> str:
    return make_token(served[0], "reader")


def http_get(base: str, token: str, path: str) -> dict[str, Any]:
    with client(base, token) as http:
        response = http.get(path)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def walk(http: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following `next` links as given."""
    items: list[dict[str, Any]] = []
    response = http.get(path, params=params)
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        pages += 1
        if body["next"] is None:
            break
        assert len(body["items"]) == params.get("limit", 100)
        response = http.get(body["next"])
    return items


def test_pages_walk_every_assignment_exactly_once(served: tuple[App, str], token: str) -> None:
    app, base = served
    with client(base, token) as http:
        items = walk(http, "/assignments", limit=37)
        only = walk(http, "/assignments", limit=7, agency="so-tu-phap")
    ids = [a["id"] for a in items]
    assert ids == assignment_ids(app)
    assert len(ids) == len(set(ids)) == 464
    assert [a["id"] for a in only] == assignment_ids(app, "so-tu-phap")


def test_pages_walk_every_task_plan_section_and_agency(served: tuple[App, str], token: str) -> None:
    app, base = served
    with session_scope(app.engine) as session:
        task_ids = list(
            session.exec(select(Task.id).where(col(Task.active)).order_by(col(Task.id)))
        )
        sections = {(t.section_code, t.section_title) for t in session.exec(select(Task))}
    with client(base, token) as http:
        tasks = walk(http, "/tasks", limit=5)
        found_sections = walk(http, "/sections", limit=2)
        agencies = walk(http, "/agencies", limit=9)
        groups = walk(http, "/groups", limit=1)
        plans = walk(http, "/plans", limit=1)
    assert [t["id"] for t in tasks] == task_ids
    assert {(s["code"], s["title"]) for s in found_sections} == sections
    assert len(found_sections) == len(sections)
    assert sum(s["tasks"] for s in found_sections) == len(task_ids)
    assert len({a["id"] for a in agencies}) == len(agencies) > 9
    tallies = [http_get(base, token, f"/agencies/{a['id']}") for a in agencies]
    assert sum(sum(t["assignments"].values()) for t in tallies) == 464
    assert groups and all(g["members"] for g in groups)
    assert [p["code"] for p in plans] == ["test"]
    detail = http_get(base, token, f"/plans/{plans[0]['id']}")
    assert sum(detail["assignments"].values()) == 464
    assert [(s["code"], s["tasks"]) for s in detail["sections"]] == [
        (s["code"], s["tasks"]) for s in found_sections
    ]
    assert sum(sum(s["categories"].values()) for s in detail["sections"]) == sum(
        detail["categories"].values()
    )


def test_category_and_due_filters_split_the_assignments(
    served: tuple[App, str], token: str
) -> None:
    _, base = served
    with client(base, token) as http:
        everything = walk(http, "/assignments", limit=500)
        by_category = {c: walk(http, "/assignments", category=c.value, limit=50) for c in Category}
        detail = http.get(f"/plans/{everything[0]['plan_id']}").json()
        day = date(2022, 12, 31)
        before = walk(http, "/assignments", due_before=day.isoformat(), limit=500)
        after = walk(http, "/assignments", due_after=(day + timedelta(days=1)).isoformat())
        overdue_tasks = walk(http, "/tasks", category="overdue", limit=3)
    assert {c for c, items in by_category.items() if items} >= {Category.OVERDUE, Category.ONGOING}
    for category, items in by_category.items():
        assert {a["category"] for a in items} <= {category.value}
    split = sorted(a["id"] for items in by_category.values() for a in items)
    assert split == sorted(a["id"] for a in everything if a["category"] is not None)
    # The plan's own page counts the same categories.
    assert detail["categories"] == {c.value: len(i) for c, i in by_category.items() if i}
    assert before and all(date.fromisoformat(a["due"]) <= day for a in before)
    assert after and all(date.fromisoformat(a["due"]) > day for a in after)
    dated = sorted(a["id"] for a in everything if a["due"] is not None)
    assert sorted(a["id"] for a in before + after) == dated
    assert overdue_tasks and all(t["category"] == "overdue" for t in overdue_tasks)
    assert all(t["counts"]["categories"]["overdue"] > 0 for t in overdue_tasks)
    with client(base, token) as http:
        first = http.get(f"/tasks/{overdue_tasks[0]['id']}").json()
        listed = walk(http, "/assignments", task=first["id"])
    assert any(a["category"] == "overdue" for a in first["assignments"])
    assert sorted(a["id"] for a in first["assignments"]) == [a["id"] for a in listed]


def test_errors_are_problem_details_in_vietnamese(served: tuple[App, str], token: str) -> None:
    _, base = served
    with client(base, token) as http:
        too_many = is_problem(http.get("/assignments", params={"limit": 501}), 422)
        none = is_problem(http.get("/assignments", params={"limit": 0}), 422)
        day = is_problem(http.get("/tasks", params={"due_before": "31/12/2022"}), 422)
        cursor = is_problem(http.get("/assignments", params={"cursor": "không-phải"}), 422)
        missing = is_problem(http.get("/assignments/999999"), 404)
        route = is_problem(http.get("/khong-co"), 404)
        method = is_problem(http.delete("/plans"), 405)
        plan = is_problem(http.get("/tasks", params={"plan": "khong-co"}), 404)
    assert too_many["errors"][0]["field"] == "limit" and "quá lớn" in too_many["detail"]
    assert "limit" in none["detail"]
    assert "due_before" in day["detail"] and "YYYY-MM-DD" in day["detail"]
    assert "cursor" in cursor["detail"]
    assert "phân công #999999" in missing["detail"]
    assert route["title"] == "Không tìm thấy"
    assert method["title"] == "Phương thức không được hỗ trợ"
    assert "kế hoạch 'khong-co'" in plan["detail"]


def test_the_event_feed_gives_changes_in_order_within_the_token_limits(
    served: tuple[App, str],
) -> None:
    app, base = served
    writer = make_token(app, "events-writer", "write")
    agency = make_token(app, "events-stp", agency="so-tu-phap")
    with client(base, writer) as http:
        start = http.get("/events").json()["last_id"]
        mine = walk(http, "/assignments", agency="so-tu-phap", limit=500)[0]["id"]
        theirs = walk(http, "/assignments", agency="so-noi-vu", limit=500)[0]["id"]
        for n, target in enumerate((mine, theirs)):
            http.post(f"/assignments/{target}/acknowledge", headers={"Idempotency-Key": f"a{n}"})
            http.post(
                f"/assignments/{target}/notes",
                json={"text": "Tiến độ"},
                headers={"Idempotency-Key": f"n{n}"},
            )
        page = http.get("/events", params={"after": start}).json()
        notes = http.get("/events", params={"after": start, "type": "assignment.note"}).json()
        after_all = http.get(page["next"]).json()
        unknown = is_problem(http.get("/events", params={"type": "khong-co"}), 422)
    assert [(e["type"], e["assignment_id"]) for e in page["items"]] == [
        ("assignment.acknowledged", mine),
        ("assignment.note", mine),
        ("assignment.acknowledged", theirs),
        ("assignment.note", theirs),
    ]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids) and page["last_id"] == ids[-1]
    assert all(e["actor"] == "api:events-writer" for e in page["items"])
    assert [e["assignment_id"] for e in notes["items"]] == [mine, theirs]
    assert after_all["items"] == [] and after_all["last_id"] == ids[-1]
    assert "khong-co" in unknown["detail"]
    with client(base, agency) as http:
        seen = http.get("/events", params={"after": start}).json()["items"]
    assert [e["assignment_id"] for e in seen] == [mine, mine]


def test_the_openapi_description_names_every_field(served: tuple[App, str]) -> None:
    _, base = served
    with client(base) as http:
        described = http.get("/openapi.json").json()
    schemas = described["components"]["schemas"]
    assert {"AssignmentOut", "TaskOut", "PlanOut", "EventPage", "ActionOut"} <= set(schemas)
    fields = schemas["AssignmentOut"]["properties"]
    assert {"status", "category", "due", "explanations"} <= set(fields)
    assert "HTTPBearer" in described["components"]["securitySchemes"]
