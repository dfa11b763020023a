"""The Telegram channel: the real python-telegram-bot stack against a local fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from fakes.telegram_api import FakeBotApi, Limits
from pydantic import SecretStr

from config.settings import Settings, SmtpSettings, TelegramSettings
from notifiers.base import Button, ChannelError, OutgoingMessage
from notifiers.registry import build_channels
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot
from notifiers.telegram_limits import TelegramRateLimiter

pytest_plugins = ["fakes.fixtures"]

# Gaps are measured where requests arrive, against Telegram's exact windows: the limiter
# counts a send from its answer, so a request that travels slowly cannot shorten a gap.
SECOND = 1.0


class ManualTime:
    """A monotonic clock the test moves by hand, for limits measured in minutes."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _answered() -> dict[str, object]:
    return {}


def reminder(chat: int, text: str = "🔔 Nhắc việc: STT 5 sắp đến hạn") -> OutgoingMessage:
    return OutgoingMessage(
        channel="telegram",
        address=str(chat),
        subject="[Nhắc việc] STT 5",
        text=text,
        buttons=((Button("Đã nhận", "a:12"), Button("Đã hoàn thành", "d:12")),),
        message_key=f"a12:before:-:0/{chat}",
    )


def channel_for(fake: FakeBotApi, limiter: TelegramRateLimiter | None = None) -> TelegramChannel:
    settings = TelegramSettings(token=SecretStr(fake.token), api_url=fake.url)
    return TelegramChannel(
        make_bot(settings, rate_limiter=limiter), signer=CallbackSigner(fake.token)
    )


@pytest.fixture
async def channel(fake_bot_api: FakeBotApi) -> AsyncIterator[TelegramChannel]:
    channel = channel_for(fake_bot_api)
    await channel.open()
    yield channel
    await channel.shutdown()


async def test_a_reminder_reaches_the_chat_with_buttons_signed_for_that_chat(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    provider_id = await channel.send(reminder(1001))

    (message,) = fake_bot_api.sent(1001)
    assert provider_id == f"1001:{message.message_id}"
    assert message.text == "🔔 Nhắc việc: STT 5 sắp đến hạn"
    assert message.button_labels == ["Đã nhận", "Đã hoàn thành"]
    signer = CallbackSigner(fake_bot_api.token)
    pressed = message.button_data("Đã nhận")
    assert signer.verify(1001, pressed) == "a:12"
    assert signer.verify(2002, pressed) is None  # the same button in another chat
    assert signer.verify(1001, "a:13:" + pressed.rsplit(":", 1)[1]) is None
    assert all(len(b["callback_data"].encode()) <= 64 for row in message.buttons for b in row)


async def test_a_flood_answer_is_retryable_after_the_time_telegram_asks(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=2)
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder(1001))
    assert not caught.value.permanent
    assert caught.value.retry_after == 2
    assert "2 giây" in caught.value.message


async def test_after_a_flood_answer_every_send_waits_before_asking_again(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(ChannelError):
        await channel.send(reminder(1001))
    refused_at = fake_bot_api.calls_to("sendMessage")[0].at
    await channel.send(reminder(2002))  # another chat: the ban is bot-wide
    assert fake_bot_api.calls_to("sendMessage")[1].at - refused_at >= SECOND


async def test_a_server_error_is_retryable(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    fake_bot_api.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder(1001))
    assert not caught.value.permanent
    assert caught.value.retry_after is None


async def test_a_chat_that_blocked_the_bot_is_given_up(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    fake_bot_api.block(1001)
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder(1001))
    assert caught.value.permanent
    assert "bot đã bị chặn" in caught.value.message


async def test_a_deleted_chat_is_given_up(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    fake_bot_api.forget(-1003)
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder(-1003))
    assert caught.value.permanent
    assert "Không tìm thấy cuộc trò chuyện Telegram -1003" in caught.value.message


async def test_a_wrong_token_is_reported_without_the_token(fake_bot_api: FakeBotApi) -> None:
    settings = TelegramSettings(token=SecretStr("999:sai-ma-bot"), api_url=fake_bot_api.url)
    channel = TelegramChannel(make_bot(settings), signer=CallbackSigner("999:sai-ma-bot"))
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder(1001))
    assert not caught.value.permanent
    assert "sai-ma-bot" not in caught.value.message
    assert fake_bot_api.sent() == []


async def test_messages_to_one_chat_are_at_least_a_second_apart(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    await asyncio.gather(*(channel.send(reminder(1001)) for _ in range(3)))
    times = [c.at for c in fake_bot_api.calls_to("sendMessage")]
    assert len(times) == 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= SECOND


async def test_a_group_gets_no_more_than_its_quota_per_window(fake_bot_api: FakeBotApi) -> None:
    # The real quota is 20 a minute; the same code with 3 a second keeps the test short.
    channel = channel_for(fake_bot_api, TelegramRateLimiter(per_chat=0.0, group=(3, 1.0)))
    started = time.monotonic()
    await asyncio.gather(*(channel.send(reminder(-1005)) for _ in range(4)))
    times = [c.at for c in fake_bot_api.calls_to("sendMessage")]
    assert times[2] - started < 0.5
    assert times[3] - times[0] >= SECOND
    await channel.shutdown()


async def test_many_chats_at_once_stay_within_the_bot_wide_limit() -> None:
    with FakeBotApi(limits=Limits()) as fake:
        channel = channel_for(fake)
        await asyncio.gather(*(channel.send(reminder(3000 + n)) for n in range(45)))
        await channel.shutdown()
    assert fake.limit_violations == 0
    assert len(fake.sent()) == 45
    times = sorted(c.at for c in fake.calls_to("sendMessage"))
    assert times[30] - times[0] >= SECOND


async def test_a_flood_storm_delays_reminders_but_loses_none(fake_bot_api: FakeBotApi) -> None:
    # The delivery path retries a retryable error after retry_after; this loop plays it.
    channel = channel_for(fake_bot_api)
    fake_bot_api.fail_next("sendMessage", times=6, status=429, retry_after=1)
    pending = [reminder(4000 + n) for n in range(8)]
    rounds = 0
    while pending and rounds < 10:
        rounds += 1
        results = await asyncio.gather(*(channel.send(m) for m in pending), return_exceptions=True)
        waits = [r.retry_after for r in results if isinstance(r, ChannelError)]
        assert all(isinstance(r, str | ChannelError) for r in results)
        pending = [m for m, r in zip(pending, results, strict=True) if isinstance(r, ChannelError)]
        if waits:
            await asyncio.sleep(max(w or 0 for w in waits))
    await channel.shutdown()
    assert pending == []
    assert sorted(m.chat_id for m in fake_bot_api.sent()) == [4000 + n for n in range(8)]


async def test_a_long_digest_is_split_with_the_buttons_on_the_last_part(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    lines = [f"{n}. Nhiệm vụ STT {n}: rà soát thủ tục hành chính nội bộ" for n in range(200)]
    provider_id = await channel.send(reminder(1001, text="\n".join(lines)))

    parts = fake_bot_api.sent(1001)
    assert len(parts) == 3
    assert all(len(p.text) <= 4096 for p in parts)
    assert "\n".join(p.text for p in parts) == "\n".join(lines)
    assert [bool(p.buttons) for p in parts] == [False, False, True]
    assert provider_id == f"1001:{parts[-1].message_id}"


async def test_the_registry_lists_only_the_configured_channels(fake_bot_api: FakeBotApi) -> None:
    assert build_channels(Settings()) == {}
    smtp = Settings(smtp=SmtpSettings(host="127.0.0.1", port=2525))
    assert list(build_channels(smtp)) == ["email"]
    both = Settings(
        smtp=SmtpSettings(host="127.0.0.1", port=2525),
        telegram=TelegramSettings(token=SecretStr(fake_bot_api.token), api_url=fake_bot_api.url),
    )
    shared = make_bot(both.telegram)
    channels = build_channels(both, telegram_bot=shared)
    assert sorted(channels) == ["email", "telegram"]
    telegram = channels["telegram"]
    assert isinstance(telegram, TelegramChannel) and telegram.bot is shared
    await telegram.send(reminder(1001))
    assert len(fake_bot_api.sent(1001)) == 1
    await shared.shutdown()


async def test_a_chat_that_just_had_a_message_must_wait_its_second(
    fake_bot_api: FakeBotApi, channel: TelegramChannel
) -> None:
    assert channel.wait_for("1001") == 0
    await channel.send(reminder(1001))
    assert 0.9 < channel.wait_for("1001") <= 1.02
    assert channel.wait_for("2002") == 0  # other chats are free


async def test_a_group_waits_out_telegrams_twenty_a_minute() -> None:
    clock = ManualTime()
    limiter = TelegramRateLimiter(clock=clock)
    for _ in range(20):
        await limiter.process_request(_answered, (), {}, "sendMessage", {"chat_id": -1005}, None)
        clock.now += 1.5  # past the one-a-second limit of the chat itself
    # The first of the 20 left 30 s ago: the group may have its next message in 30 s.
    assert 29.5 < limiter.wait_for("-1005") <= 30.1
    assert limiter.wait_for("1001") == 0
    clock.now += 30.1
    assert limiter.wait_for("-1005") == 0


async def test_messages_to_one_chat_wait_for_the_answer_of_the_previous_one() -> None:
    clock = ManualTime()
    limiter = TelegramRateLimiter(clock=clock)

    async def slow_answer() -> dict[str, object]:
        clock.now += 0.7  # the request took 0.7 s to reach Telegram and come back
        return {}

    await limiter.process_request(slow_answer, (), {}, "sendMessage", {"chat_id": 1001}, None)
    # Telegram may have counted it as late as its answer: a full second from then.
    assert limiter.wait_for("1001") > 1.0


async def test_a_group_with_a_send_under_way_waits_a_second_not_a_minute() -> None:
    clock = ManualTime()
    # One message a second for the whole bot keeps the group's send waiting on the bot.
    limiter = TelegramRateLimiter(clock=clock, overall=(1, 1.0))
    await limiter.process_request(_answered, (), {}, "sendMessage", {"chat_id": 1001}, None)
    waiting = asyncio.ensure_future(
        limiter.process_request(_answered, (), {}, "sendMessage", {"chat_id": -1005}, None)
    )
    await asyncio.sleep(0.05)  # the group's send holds its chat and group, waiting its turn
    assert 0.9 < limiter.wait_for("-1005") <= 1.1
    clock.now += 1.1  # the bot's second passes: the group's send leaves
    await asyncio.wait_for(waiting, timeout=10)
