"""The Zalo channel: our httpx client against the local fake Zalo Bot API over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from fakes.zalo_api import MAX_TEXT, FakeZaloApi
from pydantic import SecretStr

from config.errors import ConfigError
from config.settings import Settings, SmtpSettings, ZaloSettings, load_settings
from notifiers.base import ChannelError, OutgoingMessage
from notifiers.registry import build_channels
from notifiers.render import Renderer
from notifiers.zalo import ZaloChannel, ZaloClient, split_items

pytest_plugins = ["fakes.fixtures"]

GROUP = "a1b2c3d4e5f6a7b8c9d0"


def reminder(chat: str, text: str = "🔔 Nhắc việc: STT 5 sắp đến hạn") -> OutgoingMessage:
    return OutgoingMessage(channel="zalo", address=chat, subject="[Nhắc việc] STT 5", text=text)


def settings_for(fake: FakeZaloApi, **extra: object) -> ZaloSettings:
    return ZaloSettings(token=SecretStr(fake.token), api_url=fake.url, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def channel(fake_zalo_api: FakeZaloApi) -> AsyncIterator[ZaloChannel]:
    fake_zalo_api.user_says(GROUP, "xin chào", chat_type="GROUP")
    channel = ZaloChannel(ZaloClient(settings_for(fake_zalo_api, max_per_second=50)))
    await channel.open()
    yield channel
    await channel.shutdown()


async def test_a_reminder_reaches_the_chat_and_names_the_message_it_became(
    fake_zalo_api: FakeZaloApi, channel: ZaloChannel
) -> None:
    provider_id = await channel.send(reminder(GROUP))

    (message,) = fake_zalo_api.sent(GROUP)
    assert provider_id == f"{GROUP}:{message.message_id}"
    assert message.text == "🔔 Nhắc việc: STT 5 sắp đến hạn"
    assert fake_zalo_api.calls == [
        ("sendMessage", {"chat_id": GROUP, "text": "🔔 Nhắc việc: STT 5 sắp đến hạn"})
    ]


async def test_a_long_digest_is_split_between_items_never_inside_one(
    fake_zalo_api: FakeZaloApi, channel: ZaloChannel
) -> None:
    items = [f"{n}. STT {n}: " + "Xây dựng kế hoạch số hóa hồ sơ. " * 12 for n in range(1, 13)]
    items = [item.strip() for item in items]
    closing = 'Trả lời tin nhắn này bằng:\n1 (hoặc "đã nhận"): xác nhận\n2 (hoặc "xong")'
    text = "\n\n".join(["🔔 Nhắc việc", *items, closing])
    assert len(text) > 2 * MAX_TEXT

    provider_id = await channel.send(reminder(GROUP, text))

    pieces = [m.text for m in fake_zalo_api.sent(GROUP)]
    assert len(pieces) >= 3
    assert all(len(piece) <= MAX_TEXT for piece in pieces)
    for item in items:  # every item arrives whole, in one piece
        assert sum(item in piece for piece in pieces) == 1
    assert pieces[-1].endswith(closing)
    assert provider_id.endswith(fake_zalo_api.sent(GROUP)[-1].message_id)


def test_a_paragraph_longer_than_the_limit_alone_is_cut_at_line_ends() -> None:
    block = "\n".join(f"dòng {n} " + "x" * 90 for n in range(40))
    pieces = split_items(f"Mở đầu\n\n{block}\n\nKết", limit=MAX_TEXT)
    assert all(len(p) <= MAX_TEXT for p in pieces)
    assert "\n".join(pieces).replace("\n\n", "\n").split("\n") == (
        f"Mở đầu\n{block}\nKết".split("\n")
    )


async def test_a_rate_limit_is_retried_later_after_the_platforms_delay(
    fake_zalo_api: FakeZaloApi, channel: ZaloChannel
) -> None:
    fake_zalo_api.fail_next("sendMessage", code=429, retry_after=7)
    with pytest.raises(ChannelError) as raised:
        await channel.send(reminder(GROUP))
    assert not raised.value.permanent
    assert raised.value.retry_after == 7
    assert "7 giây" in raised.value.message


async def test_a_chat_the_bot_was_removed_from_is_a_permanent_failure(
    fake_zalo_api: FakeZaloApi, channel: ZaloChannel
) -> None:
    fake_zalo_api.block(GROUP)
    with pytest.raises(ChannelError) as raised:
        await channel.send(reminder(GROUP))
    assert raised.value.permanent
    assert GROUP in raised.value.message and "bị chặn" in raised.value.message


async def test_an_unknown_chat_is_permanent_and_a_server_error_is_retried(
    fake_zalo_api: FakeZaloApi, channel: ZaloChannel
) -> None:
    with pytest.raises(ChannelError) as unknown:
        await channel.send(reminder("ffffffffffffffffffff"))
    assert unknown.value.permanent and "chat not found" in unknown.value.message

    fake_zalo_api.fail_next("sendMessage", code=502, description="Bad Gateway")
    with pytest.raises(ChannelError) as down:
        await channel.send(reminder(GROUP))
    assert not down.value.permanent


async def test_a_refused_token_is_said_without_showing_it(fake_zalo_api: FakeZaloApi) -> None:
    fake_zalo_api.user_says(GROUP, "xin chào", chat_type="GROUP")
    wrong = ZaloSettings(token=SecretStr("999:not-the-token"), api_url=fake_zalo_api.url)
    channel = ZaloChannel(ZaloClient(wrong))
    try:
        with pytest.raises(ChannelError) as raised:
            await channel.send(reminder(GROUP))
    finally:
        await channel.shutdown()
    assert "DONDOC_ZALO__TOKEN" in raised.value.message
    assert "not-the-token" not in raised.value.message
    assert not raised.value.permanent  # fixing the setting makes the retry work


async def test_an_unreachable_platform_is_retried(fake_zalo_api: FakeZaloApi) -> None:
    settings = ZaloSettings(token=SecretStr(fake_zalo_api.token), api_url="http://127.0.0.1:9")
    channel = ZaloChannel(ZaloClient(settings))
    try:
        with pytest.raises(ChannelError) as raised:
            await channel.send(reminder(GROUP))
    finally:
        await channel.shutdown()
    assert not raised.value.permanent
    assert fake_zalo_api.token not in raised.value.message


async def test_sends_keep_to_the_budget_so_the_platform_never_says_too_many() -> None:
    with FakeZaloApi(per_second=5) as fake:
        chats = [f"chat{n:03d}" for n in range(12)]
        fake.know(*chats)
        channel = ZaloChannel(ZaloClient(settings_for(fake, max_per_second=5)))
        try:
            for chat in chats:
                await channel.send(reminder(chat))
        finally:
            await channel.shutdown()
        assert fake.limit_violations == 0
        assert len(fake.all_sent()) == 12


def test_the_channel_is_built_only_when_a_token_is_set(fake_zalo_api: FakeZaloApi) -> None:
    plain = Settings(smtp=SmtpSettings(host="127.0.0.1"))
    assert "zalo" not in build_channels(plain)
    with_zalo = Settings(smtp=SmtpSettings(host="127.0.0.1"), zalo=settings_for(fake_zalo_api))
    assert isinstance(build_channels(with_zalo)["zalo"], ZaloChannel)


def test_a_webhook_secret_outside_the_platforms_bounds_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DONDOC_ZALO__WEBHOOK_SECRET", "short")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "DONDOC_ZALO__WEBHOOK_SECRET" in str(raised.value.problems)
    assert "short" not in str(raised.value.problems)


def test_a_zalo_reminder_ends_with_numbered_answers_instead_of_buttons() -> None:
    item = {
        "assignment_id": 12,
        "role": "lead",
        "stage": "overdue",
        "template": "overdue",
        "audience": "lead",
        "ask_explanation": True,
        "plan": {"code": "nq131", "title": "Kế hoạch chuyển đổi số"},
        "task": {"number": "5", "title": "Xây dựng kho dữ liệu", "deadline_text": "Tháng 12/2022",
                 "due": "2022-12-31"},
        "agency": {"code": "so-tu-phap", "name": "Sở Tư pháp"},
        "recipient": {"code": "so-tu-phap", "name": "Sở Tư pháp"},
        "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
    }  # fmt: skip
    rendered = Renderer().render("overdue", items=[item], locale="vi", today=date(2023, 1, 4))
    message = rendered.message(channel="zalo", address=GROUP)
    assert not message.buttons
    assert "Bấm nút" not in message.text
    assert "STT 5: Xây dựng kho dữ liệu" in message.text
    closing = message.text.split("\n\n")[-1]
    assert closing.startswith("Trả lời tin nhắn này bằng:")
    assert '1 (hoặc "đã nhận")' in closing and '2 (hoặc "xong")' in closing
    assert "3 <lý do>, đến <ngày>" in closing and "4 <nội dung>" in closing


def test_a_zalo_digest_says_how_to_name_each_task_in_an_answer() -> None:
    first = {
        "assignment_id": 12, "role": "lead", "stage": "overdue", "template": "overdue",
        "audience": "lead", "ask_explanation": False, "repeat": 0, "occurrence": None,
        "plan": {"code": "nq131", "title": "Kế hoạch"},
        "task": {"number": "5", "title": "Xây dựng kho dữ liệu", "due": "2022-12-31"},
        "agency": {"code": "so-tu-phap", "name": "Sở Tư pháp"},
        "recipient": {"code": "so-tu-phap", "name": "Sở Tư pháp"},
    }  # fmt: skip
    second = {**first, "assignment_id": 13, "task": {**first["task"], "number": "6"}}  # type: ignore[dict-item]
    rendered = Renderer().render(
        "overdue", items=[first, second], locale="vi", today=date(2023, 1, 4)
    )
    closing = rendered.message(channel="zalo", address=GROUP).text.split("\n\n")[-1]
    lines = closing.split("\n")
    assert lines[0] == "Trả lời tin nhắn này bằng:"
    assert lines[4] == "4 <nội dung>: gửi giải trình"
    assert lines[5].startswith("Tin này có 2 nhiệm vụ:")
    assert lines[5].endswith("Mã: #12 = STT 5; #13 = STT 6.")
