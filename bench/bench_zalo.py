"""Zalo throughput at our send budget, with that budget enforced by the fake Zalo API.

The Zalo Bot Platform publishes no rate limit (notifiers/zalo.py), so dondoc keeps its
own: DONDOC_ZALO__MAX_PER_SECOND (default 5 messages a second for the bot, 1 a second per
chat). The fake answers 429 whenever more than that many sends arrive in any second
(a sliding window over arrival times). Rendered reminders go to 200 chats at once.
Target: 0 × 429, every message sent, a sustained rate near the budget.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import SecretStr

from bench.sample import rendered_reminders
from config.settings import ZaloSettings
from notifiers.base import ChannelError
from notifiers.zalo import ZaloChannel, ZaloClient
from tests.fakes.zalo_api import FakeZaloApi

CHATS = 200
LIMIT = ZaloSettings().max_per_second


async def _run() -> None:
    rendered = rendered_reminders(CHATS)
    chats = [f"{n:020x}" for n in range(1, CHATS + 1)]
    with FakeZaloApi(per_second=LIMIT) as fake:
        fake.know(*chats)
        settings = ZaloSettings(token=SecretStr(fake.token), api_url=fake.url)
        channel = ZaloChannel(ZaloClient(settings))
        messages = [
            rendered[n].message(channel="zalo", address=chat) for n, chat in enumerate(chats)
        ]
        started = time.perf_counter()
        results = await asyncio.gather(*(channel.send(m) for m in messages), return_exceptions=True)
        elapsed = time.perf_counter() - started
        await channel.shutdown()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ChannelError):
                raise result
        failed = sum(isinstance(r, ChannelError) for r in results)
        arrivals = sorted(m.at for m in fake.all_sent())
        violations = fake.limit_violations
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    rate = (len(arrivals) - 1) / span if span > 0 else float("inf")
    verdict = "met" if violations == 0 and failed == 0 else "NOT met"
    print("Zalo: reminders through ZaloChannel to the fake Zalo Bot API (budget enforced)")
    print(
        f"  {len(messages)} messages to {CHATS} chats at once: {rate:6.2f} msg/s sustained, "
        f"{violations} × 429, all sent in {elapsed:.1f} s"
    )
    print(f"  target 0 × 429 and every message sent: {verdict}; {failed} sends failed")
    print(f"  limit use: {rate / LIMIT:.0%} of the {LIMIT:g} msg/s budget")


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
