"""Zalo webhook mode: which settings choose it, registering with the secret, the push
handler checking it, and the real daemon answering pushes on its own HTTP port."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Cli
from daemon_support import at, make_app
from fakes.smtp import SmtpSink
from fakes.zalo_api import FakeZaloApi
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_zalo_bot import audits

from config.settings import Settings, ZaloSettings, load_settings
from dondoc.chat_links import create_invite
from dondoc.clock import ManualClock
from dondoc.models import Agency, Assignment, AuditEntry, ZaloPush
from dondoc.store import session_scope
from notifiers.zalo import ZaloApiError
from notifiers.zalo_bot import build_poller
from notifiers.zalo_webhook import (
    WEBHOOK_PATH,
    WebhookConfigError,
    WebhookSetup,
    receive,
    register,
    unregister,
    webhook_setup,
)

pytest_plugins = ["fakes.fixtures"]

SECRET = "a-long-enough-secret"
PUBLIC = "https://dondoc.tinh.test"
STRANGER = "0a1b2c3d4e5f60718293"
GROUP = "5d41402abc4b2a76b971"  # the Zalo group of Sở Tư pháp


def zalo_settings(fake: FakeZaloApi, **more: Any) -> Settings:
    return Settings(
        zalo=ZaloSettings(token=SecretStr(fake.token), api_url=fake.url, max_per_second=50),
        **more,
    )


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


# --- which mode -------------------------------------------------------------------------


def test_the_secret_chooses_webhook_mode_and_a_secret_that_cannot_work_stops_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def settings(**values: Any) -> Settings:
        return load_settings(data_dir=tmp_path, zalo={"token": "1:x", **values.pop("zalo", {})},
                             **values)  # fmt: skip

    with caplog.at_level(logging.WARNING, logger="dondoc.zalo"):
        assert webhook_setup(settings()) is None
        assert caplog.text == ""
        # The public address also serves emails and pages: alone it keeps polling, said once.
        assert webhook_setup(settings(public_url=PUBLIC)) is None
    assert "chưa có DONDOC_ZALO__WEBHOOK_SECRET, bot tiếp tục hỏi tin (polling)" in caplog.text

    chosen = webhook_setup(settings(public_url=PUBLIC + "/", zalo={"webhook_secret": SECRET}))
    assert chosen is not None and chosen.url == PUBLIC + WEBHOOK_PATH
    assert SECRET not in repr(chosen)

    refusals = {
        "no address": settings(zalo={"webhook_secret": SECRET}),
        "plain http": settings(public_url="http://dondoc.tinh.test",
                               zalo={"webhook_secret": SECRET}),
        "no port": settings(public_url=PUBLIC, http_port=0, zalo={"webhook_secret": SECRET}),
    }  # fmt: skip
    said = {}
    for case, values in refusals.items():
        with pytest.raises(WebhookConfigError) as refused:
            webhook_setup(values)
        said[case] = refused.value.message
        assert SECRET not in said[case]
        assert said[case].startswith("Chế độ webhook Zalo không dùng được: ")
        assert said[case].endswith("Bỏ DONDOC_ZALO__WEBHOOK_SECRET để dùng chế độ hỏi tin "
                                   "(polling), không cần mở cổng.")  # fmt: skip
    assert "chưa có DONDOC_PUBLIC_URL" in said["no address"]
    assert "chỉ gửi tin tới địa chỉ HTTPS, còn DONDOC_PUBLIC_URL là http://" in said["plain http"]
    assert "DONDOC_HTTP_PORT=0" in said["no port"]


def test_dondoc_run_refuses_a_webhook_secret_without_a_public_address(
    initialized_cli: Cli,
) -> None:
    initialized_cli.env.update(
        {"DONDOC_ZALO__TOKEN": "1234567890:tok", "DONDOC_ZALO__WEBHOOK_SECRET": SECRET}
    )
    result = initialized_cli("run")
    assert result.exit_code == 2
    assert (
        "Chế độ webhook Zalo không dùng được: DONDOC_ZALO__WEBHOOK_SECRET đã đặt nhưng "
        "chưa có DONDOC_PUBLIC_URL" in result.stderr
    )
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout


# --- the pieces -------------------------------------------------------------------------


def test_registering_sets_the_url_and_secret_and_polling_then_stops_working(
    fake_zalo_api: FakeZaloApi, plan_store: Engine
) -> None:
    async def go() -> None:
        poller = build_poller(
            settings=zalo_settings(fake_zalo_api),
            engine=plan_store,
            clock=ManualClock(datetime.now(UTC)),
        )
        try:
            url = await register(poller.client, public_url=PUBLIC + "/", secret=SECRET)
            assert url == PUBLIC + WEBHOOK_PATH
            assert fake_zalo_api.webhook == {"url": url, "secret_token": SECRET}
            with pytest.raises(ZaloApiError) as refused:
                await poller.client.get_update()
            assert refused.value.code == 400
            await unregister(poller.client)
            assert fake_zalo_api.webhook is None
        finally:
            await poller.stop()

    asyncio.run(go())


def test_polling_deletes_a_webhook_left_set_and_then_answers(
    fake_zalo_api: FakeZaloApi, plan_store: Engine
) -> None:
    async def go() -> str:
        client_settings = zalo_settings(fake_zalo_api)
        clock = ManualClock(datetime.now(UTC))
        left = build_poller(settings=client_settings, engine=plan_store, clock=clock)
        await register(left.client, public_url=PUBLIC, secret=SECRET)  # an earlier run's
        await left.stop()
        poller = build_poller(
            settings=client_settings,
            engine=plan_store,
            clock=ManualClock(datetime.now(UTC)),
            poll_timeout=1,
        )
        await poller.start()
        try:
            await fake_zalo_api.wait_until(lambda: fake_zalo_api.webhook is None)
            fake_zalo_api.user_says(STRANGER, "1")
            await fake_zalo_api.wait_until(lambda: bool(fake_zalo_api.sent(STRANGER)))
            return fake_zalo_api.sent(STRANGER)[0].text
        finally:
            await poller.stop()

    said = asyncio.run(go())
    assert said.startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    assert ("deleteWebhook", {}) in fake_zalo_api.calls


def test_a_push_needs_the_secret_and_a_redelivered_one_is_answered_once(
    fake_zalo_api: FakeZaloApi, plan_store: Engine
) -> None:
    fake_zalo_api.know(STRANGER)

    async def go() -> list[int]:
        poller = build_poller(
            settings=zalo_settings(fake_zalo_api),
            engine=plan_store,
            clock=ManualClock(datetime.now(UTC)),
            webhook=WebhookSetup(PUBLIC, SECRET),
        )
        right = {"X-Bot-Api-Secret-Token": SECRET}
        # Before the bot runs a push is kept in the store, and answered once it runs.
        statuses = [await receive(poller, secret=SECRET, headers=right, body=push(STRANGER, "1"))]
        await poller.start()
        try:
            await fake_zalo_api.wait_until(lambda: fake_zalo_api.webhook is not None)
            wrapped = json.dumps({"ok": True, "result": json.loads(push(STRANGER, "1"))})
            statuses += [
                await receive(poller, secret=SECRET, headers={}, body=push(STRANGER, "1")),
                await receive(
                    poller,
                    secret=SECRET,
                    headers={"X-Bot-Api-Secret-Token": SECRET[:-1] + "?"},
                    body=push(STRANGER, "1"),
                ),
                await receive(poller, secret=SECRET, headers=right, body=b"[1]"),
                await receive(
                    poller,
                    secret=SECRET,
                    headers={"x-bot-api-secret-token": SECRET},
                    body=push(STRANGER, "1"),
                ),
                # The same message again, as the platform redelivers it (here wrapped).
                await receive(poller, secret=SECRET, headers=right, body=wrapped.encode()),
            ]
            await fake_zalo_api.wait_until(lambda: bool(fake_zalo_api.sent(STRANGER)))
            await asyncio.sleep(1.0)  # a second answer would come within PUSH_POLL
        finally:
            await poller.stop()
        return statuses

    assert asyncio.run(go()) == [200, 403, 403, 400, 200, 200]
    assert fake_zalo_api.webhook == {"url": PUBLIC + WEBHOOK_PATH, "secret_token": SECRET}
    assert fake_zalo_api.polls == 0
    (answer,) = fake_zalo_api.sent(STRANGER)  # only the first push with the secret was read
    assert answer.text.startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    with session_scope(plan_store) as session:
        (refusal,) = session.exec(
            select(AuditEntry).where(AuditEntry.action == "chat.refused")
        ).all()
    assert refusal.detail["reason"] == "not_linked"
    with session_scope(plan_store) as session:  # one row for the event, answered
        (stored,) = session.exec(select(ZaloPush)).all()
    assert (stored.event_key, stored.status) == (
        "message.text.received:16f6366b3f02645a3d15",
        "done",
    )


# --- the real daemon ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lead(engine: Engine) -> Assignment:
    with session_scope(engine) as session:
        return session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-tu-phap")
        ).one()


def test_the_daemon_takes_pushes_on_its_port_checks_the_secret_and_never_polls(
    tmp_path: Path,
    smtp_sink: SmtpSink,
    fake_zalo_api: FakeZaloApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = _free_port()
    app = make_app(
        tmp_path,
        smtp_sink,
        zalo={"token": fake_zalo_api.token, "api_url": fake_zalo_api.url,
              "max_per_second": 20, "webhook_secret": SECRET},
        public_url=PUBLIC,
        secret_key="k" * 40,
    )  # fmt: skip
    app.settings = app.settings.model_copy(update={"http_port": port, "tick_seconds": 1.0})
    with session_scope(app.engine) as session:
        code = create_invite(
            session, agency_code="so-tu-phap", hours=72, actor="cli", now=app.clock.now()
        ).code

    async def post(http: httpx.AsyncClient, update: dict[str, Any], secret: str | None) -> int:
        headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await http.post(WEBHOOK_PATH, json=update, headers=headers)
        return response.status_code

    async def scenario(http: httpx.AsyncClient) -> None:
        # The daemon registered the webhook with its secret.
        await fake_zalo_api.wait_until(lambda: fake_zalo_api.webhook is not None, timeout=20)
        assert fake_zalo_api.webhook == {"url": PUBLIC + WEBHOOK_PATH, "secret_token": SECRET}

        # A group links with its code, by push.
        linking = fake_zalo_api.webhook_update(GROUP, f"/start {code}", chat_type="GROUP")
        assert await post(http, linking, SECRET) == 200
        await fake_zalo_api.wait_until(lambda: bool(fake_zalo_api.sent(GROUP)))
        assert fake_zalo_api.sent(GROUP)[-1].text.startswith(
            "Đã liên kết cuộc trò chuyện này với Sở Tư pháp."
        )

        # The task becomes overdue: the reminder ends with the answers, then the web link.
        clock = app.clock
        assert isinstance(clock, ManualClock)
        clock.set(at("2023-01-04", 9))
        # Virtual time goes on as it would: a reminder that comes due within a second of
        # the linking answer is deferred by the chat's own gap, to a moment on this clock.
        for _ in range(150):
            if any("quá hạn" in m.text.lower() for m in fake_zalo_api.sent(GROUP)):
                break
            await asyncio.sleep(0.2)
            clock.advance(timedelta(seconds=1))
        else:
            raise AssertionError("no overdue reminder reached the group")
        reminder = fake_zalo_api.sent(GROUP)[-1].text
        closing = reminder.split("\n\n")[-1].splitlines()
        assert closing[0] == "Trả lời tin nhắn này bằng:"
        prefix = "Hoặc trả lời trên trang web (mọi nhiệm vụ của cơ quan): "
        assert closing[-1].startswith(prefix + PUBLIC + "/p/")
        portal = await http.get(closing[-1].removeprefix(prefix + PUBLIC))
        assert portal.status_code == 200  # the web app is served on the same port
        assert "Xây dựng kế hoạch số hóa hồ sơ" in portal.text

        # "1" without the secret, or with a wrong one: 403, and nothing changes.
        before = len(fake_zalo_api.sent(GROUP))
        one = fake_zalo_api.webhook_update(GROUP, "1", chat_type="GROUP", user="u7",
                                           name="Lê Văn Cường")  # fmt: skip
        assert await post(http, one, None) == 403
        assert await post(http, one, "a-wrong-secret-token") == 403
        assert _lead(app.engine).status == "open"
        assert len(fake_zalo_api.sent(GROUP)) == before

        # With the secret, "1" acknowledges and the bot says which task.
        assert await post(http, one, SECRET) == 200
        await fake_zalo_api.wait_until(lambda: len(fake_zalo_api.sent(GROUP)) > before)
        assert _lead(app.engine).status == "acknowledged"
        said = fake_zalo_api.sent(GROUP)[-1].text
        assert said.startswith("Đã ghi nhận: Sở Tư pháp đã nhận nhiệm vụ STT 1 (kế hoạch test)")

        # Delivered again (the platform retries): answered once, recorded once.
        assert await post(http, one, SECRET) == 200
        await asyncio.sleep(1.5)  # a second answer would come within PUSH_POLL
        assert len(fake_zalo_api.sent(GROUP)) == before + 1
        assert len(audits(app.engine, "assignment.acknowledged")) == 1

        metrics = (await http.get("/metrics")).text
        assert 'dondoc_zalo_webhook_updates_total{result="refused"} 2.0' in metrics
        assert 'dondoc_zalo_webhook_updates_total{result="accepted"} 3.0' in metrics

    async def go() -> None:
        daemon = app.build_daemon()
        run = asyncio.ensure_future(daemon.run())
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
                await scenario(http)
        finally:
            daemon.request_stop()
            await run

    with caplog.at_level(logging.INFO):
        asyncio.run(go())
    assert fake_zalo_api.polls == 0  # webhook mode never polls
    assert "refused a push from 127.0.0.1" in caplog.text
    assert SECRET not in caplog.text and "a-wrong-secret-token" not in caplog.text
