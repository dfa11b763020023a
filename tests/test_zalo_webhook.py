"""Zalo webhook mode: registering with the secret, and the push handler checking it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from fakes.zalo_api import FakeZaloApi
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from config.settings import Settings, ZaloSettings
from dondoc.clock import ManualClock
from dondoc.models import AuditEntry
from dondoc.store import session_scope
from notifiers.zalo import ZaloApiError
from notifiers.zalo_bot import build_poller
from notifiers.zalo_webhook import WEBHOOK_PATH, receive, register, unregister

pytest_plugins = ["fakes.fixtures"]

SECRET = "a-long-enough-secret"
STRANGER = "0a1b2c3d4e5f60718293"


def push(chat: str, text: str) -> bytes:
    update = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "16f6366b3f02645a3d15",
            "date": 1766619597466,
            "text": text,
            "chat": {"id": chat, "chat_type": "PRIVATE"},
            "from": {"id": chat, "display_name": "Nguyễn Văn An", "is_bot": False},
        },
    }
    return json.dumps(update, ensure_ascii=False).encode()


def test_registering_sets_the_url_and_secret_and_polling_then_stops_working(
    fake_zalo_api: FakeZaloApi, plan_store: Engine
) -> None:
    async def go() -> None:
        settings = Settings(
            zalo=ZaloSettings(token=SecretStr(fake_zalo_api.token), api_url=fake_zalo_api.url)
        )
        poller = build_poller(
            settings=settings, engine=plan_store, clock=ManualClock(datetime.now(UTC))
        )
        try:
            url = await register(
                poller.client, public_url="https://dondoc.tinh.test/", secret=SECRET
            )
            assert url == "https://dondoc.tinh.test" + WEBHOOK_PATH
            assert fake_zalo_api.webhook == {"url": url, "secret_token": SECRET}
            try:
                await poller.client.get_update()
            except ZaloApiError as exc:
                assert exc.code == 400
            else:
                raise AssertionError("getUpdates worked while a webhook was set")
            await unregister(poller.client)
            assert fake_zalo_api.webhook is None
        finally:
            await poller.stop()

    asyncio.run(go())


def test_a_push_without_the_secret_is_refused_and_a_right_one_is_answered(
    fake_zalo_api: FakeZaloApi, plan_store: Engine
) -> None:
    fake_zalo_api.know(STRANGER)

    async def go() -> list[int]:
        settings = Settings(
            zalo=ZaloSettings(token=SecretStr(fake_zalo_api.token), api_url=fake_zalo_api.url)
        )
        poller = build_poller(
            settings=settings, engine=plan_store, clock=ManualClock(datetime.now(UTC))
        )
        try:
            return [
                await receive(poller, secret=SECRET, headers={}, body=push(STRANGER, "1")),
                await receive(
                    poller,
                    secret=SECRET,
                    headers={"X-Bot-Api-Secret-Token": "wrong-secret!"},
                    body=push(STRANGER, "1"),
                ),
                await receive(
                    poller, secret=SECRET, headers={"X-Bot-Api-Secret-Token": SECRET}, body=b"[1]"
                ),
                await receive(
                    poller,
                    secret=SECRET,
                    headers={"x-bot-api-secret-token": SECRET},
                    body=push(STRANGER, "1"),
                ),
            ]
        finally:
            await poller.stop()

    assert asyncio.run(go()) == [401, 401, 400, 200]
    (answer,) = fake_zalo_api.sent(STRANGER)  # only the push with the secret was read
    assert answer.text.startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    with session_scope(plan_store) as session:
        (refusal,) = session.exec(
            select(AuditEntry).where(AuditEntry.action == "chat.refused")
        ).all()
    assert refusal.detail["reason"] == "not_linked"
