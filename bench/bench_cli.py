"""How fast the CLI starts: the commands of issue 15's item 9, as processes, and what the
imports of each cost.

Targets: `dondoc --help` and `dondoc rules explain` under 0.3 s, `dondoc preview` of the
example plan's year under 1 s. Each is a real `python -m dondoc` process (median of
RUNS), printed next to a bare Python start on the same machine, with its CPU time: on a
busy machine the wall time grows with the load, the CPU time much less. The heaviest
imports (`python -X importtime`) say what to import lazily next.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.startup_run import PYCACHE

RUNS = 5
EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "nq131-phu-luc.csv"
# (label, arguments, target seconds)
COMMANDS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("dondoc --help", ("--help",), 0.3),
    ("dondoc rules explain", ("rules", "explain", "trước ngày 15/6/2023"), 0.3),
    (
        "dondoc preview (a year)",
        ("preview", "--from", "2022-11-01", "--to", "2023-12-31", "--json"),
        1.0,
    ),
)
# Libraries a command should import only when it needs them.
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "openpyxl",
    "fastapi",
    "telegram",
    "jinja2",
    "rich",
    "holidays",
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU seconds of RUNS processes."""
    walls, cpus = [], []
    for _ in range(RUNS):
        cpu, started = _children_cpu(), time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _importtime(args: tuple[str, ...], env: dict[str, str], count: int = 5) -> list[str]:
    """All imports of one run, the heaviest top-level ones, and which heavy libraries it
    loaded (each as `python -X importtime` measures it: wall time, in that one run)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dondoc", *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    found, loaded, total = [], set(), 0
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        total += int(parts[0].rpartition(":")[2])  # each module's own time, once
        name = parts[2].rstrip()
        loaded.add(name.strip().partition(".")[0])
        if len(name) - len(name.lstrip()) <= 1:  # imported by the command itself
            found.append((int(parts[1]), name.strip()))
    lines = [f"{micros / 1e6:5.2f} s {name}" for micros, name in sorted(found, reverse=True)]
    heavy = sorted(loaded & set(HEAVY))
    return [
        f"{total / 1e6:5.2f} s all imports",
        *lines[:count],
        f"heavy libraries loaded: {', '.join(heavy) or 'none'}",
    ]


def _store(folder: Path) -> dict[str, str]:
    """A data directory holding the example directory and plan, as `dondoc init` makes it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(folder / "data"), "NO_COLOR": "1", "COLUMNS": "100"})
    # Bytecode cached, as in an installed deployment (pip and the Docker image compile it):
    # where PYTHONDONTWRITEBYTECODE is set, every start would compile each module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    dondoc = [sys.executable, "-m", "dondoc"]
    subprocess.run([*dondoc, "init"], check=True, capture_output=True, env=env)
    subprocess.run(
        [*dondoc, "plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131"],
        check=True,
        capture_output=True,
        env=env,
    )
    return env


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = _store(Path(folder))
        bare, bare_cpu = _run([sys.executable, "-c", "pass"], env)
        print(f"CLI start (median of {RUNS} processes; wall time, and CPU time in brackets)")
        print(f"  python -c pass             {bare:5.2f} s ({bare_cpu:4.2f} s CPU)")
        offenders = []
        for label, args, target in COMMANDS:
            wall, cpu = _run([sys.executable, "-m", "dondoc", *args], env)
            verdict = "met" if wall < target else "NOT met"
            print(f"  {label:26s} {wall:5.2f} s ({cpu:4.2f} s CPU)  target < {target} s: "
                  f"{verdict}")  # fmt: skip
            offenders.append((label, _importtime(args, env)))
        for label, lines in offenders:
            print(f"  {label}: heaviest imports (python -X importtime, cumulative)")
            for line in lines:
                print(f"    {line}")


if __name__ == "__main__":
    main()
