"""Serving the real web app with uvicorn on 127.0.0.1 for the web tests, and a real
chromium (Debian's) for the browser tests; no mocks of our code."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from daemon_support import make_app
from fakes.smtp import SmtpSink
from fastapi import FastAPI
from sqlmodel import col, select

from dondoc.app import App
from dondoc.models import Agency, Assignment, Task
from dondoc.store import session_scope
from dondoc.web import create_app
from dondoc.web.accounts import add_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "test-secret-key-" + "x" * 32
ADMIN, VIEWER, PASSWORD = "chanh.vp", "chuyen.vien", "mat-khau-dai-123"


def browser_missing() -> str | None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        return "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
    return None


@dataclass
class Site:
    app: App
    url: str
    web: FastAPI

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_site(
    tmp_path: Path, sink: SmtpSink, public_url: str | None = None, **overrides: Any
) -> Iterator[Site]:
    """The small test plan in a store, two office accounts, and the web app serving it at
    the address its links name (DONDOC_PUBLIC_URL)."""
    sock = _free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(tmp_path, sink, public_url=public_url or url, secret_key=SECRET, **overrides)
    with session_scope(app.engine) as session:
        now = app.clock.now()
        add_user(session, name=ADMIN, role="admin", password=PASSWORD, actor="t", now=now)
        add_user(session, name=VIEWER, role="viewer", password=PASSWORD, actor="t", now=now)
    web = create_app(engine=app.engine, settings=app.settings, clock=app.clock)
    server = uvicorn.Server(
        uvicorn.Config(web, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Site(app, url, web)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if found is None:
        raise AssertionError("the page has no CSRF field")
    return found.group(1)


def log_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": "/"}
    )


def assignment_of(app: App, agency: str, role: str = "lead") -> int:
    with session_scope(app.engine) as session:
        row = session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .join(Task, col(Task.id) == Assignment.task_id)
            .where(Agency.code == agency, Assignment.role == role)
        ).one()
        return row.id or 0


def agency_id(app: App, code: str) -> int:
    with session_scope(app.engine) as session:
        agency = session.exec(select(Agency).where(Agency.code == code)).one()
        return agency.id or 0
