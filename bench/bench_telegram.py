"""Telegram throughput with Telegram's limits enforced by the fake Bot API.

The real python-telegram-bot stack and dondoc's TelegramChannel send rendered reminders
to a local fake Bot API that answers 429 whenever a limit is broken: 30 messages a
second per bot, 1 a second per chat (sliding windows over arrival times). The daemon's
delivery path may send concurrently; everything below is sent at once.
Target (issue 6): sustained ≥ 28 msg/s across many chats, 0 × 429.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import SecretStr

from bench.sample import rendered_reminders
from config.settings import TelegramSettings
from notifiers.base import ChannelError, OutgoingMessage
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot
from tests.fakes.telegram_api import FakeBotApi, Limits

CHATS = 200
PER_CHAT = 3
ONE_CHAT = 6
TARGET = 28.0


async def _send_all(channel: TelegramChannel, messages: list[OutgoingMessage]) -> int:
    results = await asyncio.gather(*(channel.send(m) for m in messages), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ChannelError):
            raise result
    return sum(isinstance(r, ChannelError) for r in results)


def _sustained(arrivals: list[float]) -> float:
    arrivals = sorted(arrivals)
    span = arrivals[-1] - arrivals[0]
    return (len(arrivals) - 1) / span if span > 0 else float("inf")


async def _run() -> None:
    rendered = rendered_reminders(CHATS)
    with FakeBotApi(limits=Limits()) as fake:
        settings = TelegramSettings(token=SecretStr(fake.token), api_url=fake.url)
        channel = TelegramChannel(make_bot(settings), signer=CallbackSigner(fake.token))
        await channel.open()
        many = [
            rendered[n].message(channel="telegram", address=str(10_000 + n))
            for _ in range(PER_CHAT)
            for n in range(CHATS)
        ]
        started = time.perf_counter()
        failed = await _send_all(channel, many)
        elapsed = time.perf_counter() - started
        arrivals = [c.at for c in fake.calls_to("sendMessage")]
        many_rate, many_429 = _sustained(arrivals), fake.limit_violations

        one = [rendered[0].message(channel="telegram", address="42") for _ in range(ONE_CHAT)]
        before = len(arrivals)
        failed += await _send_all(channel, one)
        one_arrivals = [c.at for c in fake.calls_to("sendMessage")][before:]
        one_rate, one_429 = _sustained(one_arrivals), fake.limit_violations - many_429
        await channel.shutdown()

    verdict = "met" if many_rate >= TARGET and many_429 == 0 and failed == 0 else "NOT met"
    print("Telegram: reminders through python-telegram-bot to the fake Bot API (limits enforced)")
    print(
        f"  {len(many)} messages to {CHATS} chats at once: {many_rate:6.1f} msg/s sustained, "
        f"{many_429} × 429, all sent in {elapsed:.1f} s"
    )
    print(f"  {ONE_CHAT} messages to one chat: {one_rate:6.2f} msg/s, {one_429} × 429")
    print(f"  target ≥ {TARGET:.0f} msg/s with 0 × 429: {verdict}; {failed} sends failed")
    print(f"  limit use: {many_rate / 30:.0%} of the 30 msg/s bot-wide limit")


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
