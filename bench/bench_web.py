"""The office's overview and plan pages at 100, 10k and 100k assignments, over real HTTP
(uvicorn on 127.0.0.1, httpx), signed in. Target: each under 300 ms at 100k; the ratio
to 100 assignments is printed (same run, so the machine's noise cancels out).

Next to the wall-clock time, the CPU time this process spent per page (server and
client threads, SQLite included): on a shared, busy machine the wall clock waits for
other processes, the CPU time does not."""

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
from dondoc.models import AuditEntry
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


# The first view of each page on a store: the overview then computes next week's forecast,
# which later views reuse until something is written (dondoc/web/forecast.py).
FIRST_VIEW: dict[tuple[int, str], float] = {}
# The overview's first view after a write: it shows the forecast it has and recomputes it in
# the background; the second figure is how long that background refresh took.
AFTER_WRITE: dict[int, tuple[float, float]] = {}


def _time_pages(folder: Path, size: int) -> dict[str, tuple[float, float]]:
    engine = build_store(folder / f"web-{size}.db", size)
    clock = ManualClock(NOW)
    with session_scope(engine) as session:
        add_user(
            session, name="bench", role="viewer", password="bench-password", actor="b", now=NOW
        )
    settings = load_settings(data_dir=folder, secret_key="b" * 40)
    web = create_app(engine=engine, settings=settings, clock=clock)
    server, thread, url = _serve(web)
    timings: dict[str, tuple[float, float]] = {}
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
                started = time.perf_counter()
                client.get(path).raise_for_status()  # warm-up
                FIRST_VIEW[(size, name)] = time.perf_counter() - started
                samples, cpu = [], []
                for _ in range(RUNS):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    client.get(path).raise_for_status()
                    samples.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                timings[name] = (statistics.median(samples), statistics.median(cpu))
            with session_scope(engine) as session:
                session.add(AuditEntry(at=NOW, actor="bench", action="bench.write"))
            started = time.perf_counter()
            page = client.get("/").text
            shown = time.perf_counter() - started
            if 'data-forecast="updating"' not in page:
                raise RuntimeError("the overview waited for the forecast after a write")
            web.state.web.forecasts.wait()
            AFTER_WRITE[size] = (shown, time.perf_counter() - started)
    finally:
        server.should_exit = True
        thread.join()
        engine.dispose()
    return timings


def main() -> None:
    print(f"Web pages benchmark (SQLite file, uvicorn + httpx, median of {RUNS} runs)")
    print(f"{'assignments':>12} " + " ".join(f"{name + ' (cpu)':>24}" for name, _ in PAGES))
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            results[size] = _time_pages(Path(tmp), size)
            cells = " ".join(
                f"{wall * 1000:>9.1f} ms ({cpu * 1000:>6.1f} ms)"
                for wall, cpu in (results[size][name] for name, _ in PAGES)
            )
            print(f"{size:>12,} {cells}")
    largest = SIZES[-1]
    for name, _ in PAGES:
        wall, cpu = results[largest][name]
        ratio = wall / results[SIZES[0]][name][0]
        cpu_ratio = cpu / results[SIZES[0]][name][1]
        verdict = "ok" if wall * 1000 <= TARGET_MS else "OVER TARGET"
        print(
            f"{name}: {wall * 1000:.1f} ms at {largest:,}, {ratio:.1f}x the {SIZES[0]} figure; "
            f"CPU {cpu * 1000:.1f} ms, {cpu_ratio:.1f}x (target <= {TARGET_MS} ms: {verdict})"
        )
    first = ", ".join(f"{size:,}: {FIRST_VIEW[(size, 'overview')] * 1000:.0f} ms" for size in SIZES)
    print(f"overview, first view on a fresh server (forecast computed): {first}")
    after = ", ".join(
        f"{size:,}: {shown * 1000:.0f} ms (refreshed in the background in {done:.1f} s)"
        for size, (shown, done) in AFTER_WRITE.items()
    )
    print(f"overview, first view after a write (earlier forecast shown): {after}")


if __name__ == "__main__":
    main()
