"""How fast the CLI starts: `dondoc --help` as a process, and what its imports cost.

Target (issue 15, item 9): `dondoc --help` under 0.3 s. Printed next to a bare Python
start on the same machine, so the ratio holds on a slow or busy one; the heaviest
imports are listed, since importing lazily what a command does not need is the fix.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5
TARGET_SECONDS = 0.3


def _seconds(*args: str) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _heaviest(module: str, count: int = 6) -> list[tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        capture_output=True,
        text=True,
    )
    found = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if len(name) - len(name.lstrip()) <= 3:  # modules imported by dondoc.cli itself
                found.append((int(parts[1]), name.strip()))
    return sorted(found, reverse=True)[:count]


def main() -> None:
    bare = _seconds("-c", "pass")
    helped = _seconds("-m", "dondoc", "--help")
    verdict = "met" if helped < TARGET_SECONDS else "NOT met"
    print(f"CLI start (median of {RUNS} processes)")
    print(f"  python -c pass        {bare:6.2f} s")
    print(f"  dondoc --help         {helped:6.2f} s ({helped / bare:.0f}× a bare start; "
          f"target < {TARGET_SECONDS} s: {verdict})")  # fmt: skip
    print("  heaviest imports of dondoc.cli (cumulative):")
    for micros, name in _heaviest("dondoc.cli"):
        print(f"    {micros / 1e6:6.2f} s  {name}")


if __name__ == "__main__":
    main()
