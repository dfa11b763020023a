"""`python -m bench`: run every benchmark in turn. A new benchmark adds its `main` here."""

from __future__ import annotations

from collections.abc import Callable

from bench import (
    bench_api,
    bench_chat_flood,
    bench_cli,
    bench_deadline,
    bench_delivery,
    bench_email,
    bench_import,
    bench_multi,
    bench_startup,
    bench_telegram,
    bench_tick,
    bench_web,
    bench_zalo,
)

BENCHES: tuple[Callable[[], None], ...] = (
    bench_chat_flood.main,
    bench_deadline.main,
    bench_email.main,
    bench_import.main,
    bench_telegram.main,
    bench_delivery.main,
    bench_tick.main,
    bench_cli.main,
    bench_startup.main,
    bench_web.main,
    bench_api.main,
    bench_zalo.main,
    bench_multi.main,
)


def main() -> None:
    for bench in BENCHES:
        bench()
        print()


if __name__ == "__main__":
    main()
