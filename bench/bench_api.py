"""The API's list endpoints at 100 and 100k assignments, over real HTTP: `dondoc web` in
its own process (as an office runs it; a server thread inside the measuring process would
add the GIL's hand-offs to every figure), httpx, a read token. Target: a page of 100
under 100 ms at 100k; the ratio to 100 assignments is printed (same run, so the
machine's noise cancels out). The query plans of the assignment lists are printed too,
to show they use indexes, not scans."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.bench_tick import build_store
from dondoc.api.pagination import encode_cursor
from dondoc.api.tokens import create_token
from dondoc.store import session_scope

SIZES = (100, 100_000)
RUNS = 7
NOW = datetime(2023, 1, 10, 3, 0, tzinfo=UTC)
TARGET_MS = 100


def _endpoints(size: int) -> list[tuple[str, str]]:
    middle = encode_cursor(id=size // 2)
    return [
        ("assignments", "/api/v1/assignments?limit=100"),
        ("assignments, middle page", f"/api/v1/assignments?limit=100&cursor={middle}"),
        ("assignments of an agency", "/api/v1/assignments?limit=100&agency=so-tu-phap"),
        ("assignments done", "/api/v1/assignments?limit=100&status=done"),
        ("assignments overdue", "/api/v1/assignments?limit=100&category=overdue"),
        ("tasks", "/api/v1/tasks?limit=100"),
        ("tasks of an agency", "/api/v1/tasks?limit=100&agency=so-tu-phap"),
        ("plans", "/api/v1/plans?limit=100"),
        ("sections", "/api/v1/sections?limit=100"),
        ("agencies", "/api/v1/agencies?limit=100"),
        ("groups", "/api/v1/groups?limit=100"),
        ("events", "/api/v1/events?limit=100"),
    ]


def _mix_statuses(engine: Engine) -> None:
    """Some done, some acknowledged, as in a store that has been running a while."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE assignment SET status='done', done_at=:at WHERE id % 7 = 0"),
            {"at": NOW.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text("UPDATE assignment SET status='acknowledged' WHERE id % 5 = 0 AND id % 7 <> 0")
        )


def _plans(engine: Engine) -> list[str]:
    queries = {
        "status": "SELECT id FROM assignment WHERE status = 'done' AND id > 50 AND active "
        "ORDER BY id LIMIT 101",
        "agency": "SELECT id FROM assignment WHERE agency_id = 3 AND id > 50 AND active "
        "ORDER BY id LIMIT 101",
        "events": "SELECT id FROM auditentry WHERE id > 0 AND action IN ('assignment.done') "
        "ORDER BY id LIMIT 100",
    }
    lines = []
    with engine.connect() as conn:
        for name, query in queries.items():
            plan = conn.execute(sa.text("EXPLAIN QUERY PLAN " + query)).all()
            lines.append(f"  {name}: " + "; ".join(str(row[-1]) for row in plan))
    return lines


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_web(folder: Path, database: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        {
            "DONDOC_DATA_DIR": str(folder / "data"),
            "DONDOC_DATABASE_URL": f"sqlite:///{database}",
            "DONDOC_SECRET_KEY": "b" * 40,
        }
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dondoc",
            "--now",
            NOW.isoformat(),
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/api/v1/openapi.json", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("dondoc web did not start")


def _time(folder: Path, size: int) -> tuple[dict[str, float], list[str]]:
    database = folder / f"api-{size}.db"
    engine = build_store(database, size)
    _mix_statuses(engine)
    with session_scope(engine) as session:
        token = create_token(
            session, name="bench", scope="read", plan=None, agency=None, actor="b", now=NOW
        )
    plans = _plans(engine)
    engine.dispose()
    process, url = _start_web(folder, database)
    timings: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
            for name, path in _endpoints(size):
                first = client.get(path)  # warm-up
                first.raise_for_status()
                full = path.endswith("limit=100") and name.startswith("assignments")
                if full and len(first.json()["items"]) != min(100, size):
                    raise RuntimeError(f"{name}: not a full page")
                samples = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    samples.append(time.perf_counter() - started)
                timings[name] = statistics.median(samples)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return timings, plans


def main() -> None:
    print(f"API list endpoints (SQLite file, uvicorn + httpx, median of {RUNS} runs, page of 100)")
    results: dict[int, dict[str, float]] = {}
    plans: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            results[size], plans = _time(Path(tmp), size)
    small, large = SIZES
    print(f"{'endpoint':<28} {small:>10,} {large:>10,}   ratio")
    worst = 0.0
    for name, _ in _endpoints(large):
        ms_small, ms_large = results[small][name] * 1000, results[large][name] * 1000
        worst = max(worst, ms_large)
        print(f"{name:<28} {ms_small:>7.1f} ms {ms_large:>7.1f} ms {ms_large / ms_small:>6.1f}x")
    verdict = "ok" if worst <= TARGET_MS else "OVER TARGET"
    print(f"slowest at {large:,}: {worst:.1f} ms (target <= {TARGET_MS} ms: {verdict})")
    print("query plans at 100k:")
    for line in plans:
        print(line)


if __name__ == "__main__":
    main()
