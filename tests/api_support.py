"""The API served for real: the web app (which mounts /api/v1) under uvicorn on
127.0.0.1, tokens made by the same function as `dondoc token create`, and counts of
what a request may have changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from fakes.smtp import SmtpSink
from sqlmodel import SQLModel, col, select
from web_support import serve_site

from dondoc.api.tokens import create_token
from dondoc.app import App
from dondoc.models import Agency, Assignment, AuditEntry, Task
from dondoc.store import session_scope

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "nq131-phu-luc.csv"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@contextmanager
def serve_api(tmp_path: Path, sink: SmtpSink, **overrides: Any) -> Iterator[tuple[App, str]]:
    """The example plan (28 tasks, 464 assignments) as plan `test`, served; yields the
    App and the API's base URL."""
    overrides.setdefault("plan", EXAMPLE_PLAN.read_text(encoding="utf-8"))
    with serve_site(tmp_path, sink, **overrides) as site:
        yield site.app, site.url + "/api/v1"


def make_token(
    app: App, name: str, scope: str = "read", *, plan: str | None = None, agency: str | None = None
) -> str:
    with session_scope(app.engine) as session:
        return create_token(
            session,
            name=name,
            scope=scope,
            plan=plan,
            agency=agency,
            actor="test",
            now=app.clock.now(),
        )


def client(base: str, token: str | None = None, **headers: str) -> httpx.Client:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def count(app: App, table: type[SQLModel], *where: Any) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(sa.func.count()).select_from(table).where(*where)).one()


def audits(app: App, action: str) -> list[AuditEntry]:
    with session_scope(app.engine) as session:
        return list(
            session.exec(
                select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id))
            ).all()
        )


def assignment_ids(app: App, agency: str | None = None) -> list[int]:
    with session_scope(app.engine) as session:
        query = (
            select(Assignment.id)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(col(Assignment.active), col(Task.active))
            .order_by(col(Assignment.id))
        )
        if agency is not None:
            query = query.where(Agency.code == agency)
        return [i for i in session.exec(query).all() if i is not None]


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body, after checking it is an RFC 9457 problem with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["type"].startswith("urn:dondoc:problem:")
    assert body["instance"] == response.request.url.path
    return body
