"""The deadline parser stays linear: each doubling of a hostile phrase at most doubles
the time it takes.

Each family below once made the parser slow: "1/" repeated was quadratic in the
document-number pattern (275 s for 50,000 repeats), and building an error message per
failed alternative made backtracking quadratic. The length cap (500 characters) is
lifted here to see the growth. Figures are the best of a few runs (noise from other
processes only ever adds time), and the ratios compare sizes within this one run.
Steps (`Meter`) are the parser's own count of its work: their ratios are exact.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from contextlib import suppress
from itertools import pairwise

from rules.deadline import ParseError
from rules.deadline.parse import parse
from rules.deadline.tokens import Meter

# name → phrase of about `n` repeats; each stresses another part of the grammar.
FAMILIES: dict[str, Callable[[int], str]] = {
    "document numbers": lambda n: "1/" * n,
    "dashes": lambda n: "1-" * n,
    "open brackets": lambda n: "(" * n,
    "closed brackets": lambda n: "Tháng 12/2022 " + "(x) " * n,
    "nested brackets": lambda n: "Tháng 12/2022 " + "(" * n + ")" * n,
    "notes": lambda n: "Tháng 12/2022, " + "hoặc đột xuất " * n,
    "reference then periods": lambda n: "Theo kế hoạch A" + ", hằng quý" * n,
    "condition then dates": lambda n: "Sau khi A" + ", trong tháng 1/2023 hoặc đột xuất" * n,
    "vocabulary": lambda n: "chậm nhất tháng quý năm " * n,
    "ranges": lambda n: "Quý I - " * n,
}
DOUBLINGS = 4
FIRST_SIZE = 1_000  # characters, at least
# A family fast at FIRST_SIZE starts longer, so that no figure is mostly timer noise.
SHORTEST_TIME = 0.02  # seconds
RUNS = 5
TARGET = 2.5  # "roughly doubles": a little over 2 for noise and caches


def phrase_of(family: Callable[[int], str], length: int) -> str:
    """The family's phrase with at least `length` characters."""
    unit = max(1, len(family(10)) // 10)
    return family(length // unit + 1)


def measure(phrases: list[str]) -> list[tuple[float, int]]:
    """(best seconds, steps) to parse each phrase without the length cap.

    Sizes are interleaved within each run, so that a busy moment of the machine slows
    all of them rather than one.
    """
    best = [float("inf")] * len(phrases)
    steps = [0] * len(phrases)
    for _ in range(RUNS):
        for index, phrase in enumerate(phrases):
            meter = Meter()
            gc.collect()  # as timeit does: a collection due to earlier garbage is not ours
            gc.disable()
            started = time.perf_counter()
            with suppress(ParseError):
                parse(phrase, max_length=None, meter=meter)
            best[index] = min(best[index], time.perf_counter() - started)
            gc.enable()
            steps[index] = meter.steps
    return list(zip(best, steps, strict=True))


def first_size(family: Callable[[int], str]) -> int:
    size = FIRST_SIZE
    while size < 64 * FIRST_SIZE and measure([phrase_of(family, size)])[0][0] < SHORTEST_TIME:
        size *= 2
    return size


def main() -> None:
    print("Deadline parser: time as the phrase doubles (no length cap; best of", RUNS, "runs)")
    worst = 0.0
    for name, family in FAMILIES.items():
        start = first_size(family)
        sizes = [start * 2**n for n in range(DOUBLINGS + 1)]
        figures = measure([phrase_of(family, size) for size in sizes])
        times = " ".join(f"{seconds * 1000:8.1f}" for seconds, _ in figures)
        ratios = [b[0] / a[0] for a, b in pairwise(figures)]
        steps = [b[1] / a[1] for a, b in pairwise(figures)]
        # The growth per doubling over the whole range: single steps are noisy on a
        # shared machine, the trend over a 16-fold length is not.
        overall = (figures[-1][0] / figures[0][0]) ** (1 / DOUBLINGS)
        worst = max(worst, overall)
        print(f"{name:>24}: {start:,} to {sizes[-1]:,} characters, ms {times}")
        print(f"{'':>24}  time x{' x'.join(f'{r:.2f}' for r in ratios)} (overall x{overall:.2f})")
        print(f"{'':>24}  steps x{' x'.join(f'{r:.2f}' for r in steps)}")
    verdict = "ok" if worst <= TARGET else "OVER TARGET"
    print(f"worst growth of time per doubling: {worst:.2f}x (target <= {TARGET}x: {verdict})")


if __name__ == "__main__":
    main()
