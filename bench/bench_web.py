"""The office's overview and plan pages at 100, 10k and 100k assignments, over real HTTP
(uvicorn on 127.0.0.1, httpx), signed in. Target: each under 300 ms at 100k; the ratio
to 100 assignments is printed (same run, so the machine's noise cancels out)."""

from __future__ import annotations

import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from bench.bench_tick import build_store
from config.settings import load_settings
from dondoc.clock import ManualClock
from dondoc.store import session_scope
from dondoc.web import create_app
from dondoc.web.accounts import add_user

SIZES = (100, 10_000, 100_000)
RUNS = 5
NOW = datetime(2023, 1, 10, 3, 0, tzinfo=UTC)
PAGES = (("overview", "/"), ("plan", "/plans/bench"))
TARGET_MS = 300


def _serve(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, url


def _time_pages(folder: Path, size: int) -> dict[str, float]:
    engine = build_store(folder / f"web-{size}.db", size)
    clock = ManualClock(NOW)
    with session_scope(engine) as session:
        add_user(
            session, name="bench", role="viewer", password="bench-password", actor="b", now=NOW
        )
    settings = load_settings(data_dir=folder, secret_key="b" * 40)
    server, thread, url = _serve(create_app(engine=engine, settings=settings, clock=clock))
    timings: dict[str, float] = {}
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            login = client.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', login)
            assert token is not None
            client.post(
                "/login",
                data={"csrf": token.group(1), "name": "bench", "password": "bench-password"},
            )
            for name, path in PAGES:
                client.get(path).raise_for_status()  # warm-up
                samples = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    samples.append(time.perf_counter() - started)
                timings[name] = statistics.median(samples)
    finally:
        server.should_exit = True
        thread.join()
        engine.dispose()
    return timings


def main() -> None:
    print(f"Web pages benchmark (SQLite file, uvicorn + httpx, median of {RUNS} runs)")
    print(f"{'assignments':>12} " + " ".join(f"{name:>12}" for name, _ in PAGES))
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            results[size] = _time_pages(Path(tmp), size)
            cells = " ".join(f"{results[size][name] * 1000:>9.1f} ms" for name, _ in PAGES)
            print(f"{size:>12,} {cells}")
    largest = SIZES[-1]
    for name, _ in PAGES:
        ms = results[largest][name] * 1000
        ratio = results[largest][name] / results[SIZES[0]][name]
        verdict = "ok" if ms <= TARGET_MS else "OVER TARGET"
        print(
            f"{name}: {ms:.1f} ms at {largest:,}, {ratio:.1f}x the {SIZES[0]} figure "
            f"(target <= {TARGET_MS} ms: {verdict})"
        )


if __name__ == "__main__":
    main()
