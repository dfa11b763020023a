"""Zalo webhook mode when things are not right: a webhook the platform will not take is
reported in /healthz and `dondoc status` until a retry succeeds, and a rehearsal on a
virtual clock leaves the real daemon's webhook alone."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
from conftest import Cli
from daemon_support import make_app
from fakes.smtp import SmtpSink
from fakes.zalo_api import FakeZaloApi

from notifiers.zalo_webhook import WEBHOOK_PATH

pytest_plugins = ["fakes.fixtures"]

SECRET = "a-long-enough-secret"
PUBLIC = "https://dondoc.tinh.test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _webhook_app(tmp_path: Path, sink: SmtpSink, fake: FakeZaloApi, **more: Any) -> Any:
    return make_app(
        tmp_path,
        sink,
        zalo={"token": fake.token, "api_url": fake.url, "max_per_second": 20,
              "webhook_secret": SECRET},
        public_url=PUBLIC,
        secret_key="k" * 40,
        **more,
    )  # fmt: skip


def test_a_refused_set_webhook_shows_in_health_until_a_retry_is_accepted(
    tmp_path: Path, smtp_sink: SmtpSink, fake_zalo_api: FakeZaloApi
) -> None:
    port = _free_port()
    app = _webhook_app(tmp_path, smtp_sink, fake_zalo_api)
    app.settings = app.settings.model_copy(update={"http_port": port, "tick_seconds": 1.0})
    fake_zalo_api.fail_next("setWebhook", code=502, description="Bad Gateway", times=1)
    seen: dict[str, Any] = {}

    async def go() -> None:
        daemon = app.build_daemon()
        run = asyncio.ensure_future(daemon.run())
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
                for _ in range(200):  # the first try fails at once; its retry comes 1 s later
                    reply = await http.get("/healthz")
                    bot = reply.json().get("bot") or {}
                    if bot.get("problem"):
                        seen["refused"] = (reply.status_code, reply.json())
                        seen["status"] = daemon.presence_detail()
                        break
                    await asyncio.sleep(0.02)
                await fake_zalo_api.wait_until(
                    lambda: fake_zalo_api.webhook is not None, timeout=20
                )
                await asyncio.sleep(0.1)
                reply = await http.get("/healthz")
                seen["accepted"] = (reply.status_code, reply.json())
        finally:
            daemon.request_stop()
            await run

    asyncio.run(go())
    code, body = seen["refused"]
    # Degraded, not down: restarting would not make Zalo take the webhook, and email goes on.
    assert code == 200 and body["degraded"] is True and body["bot"]["ok"] is False
    assert body["bot"]["problem"].startswith("Zalo chưa nhận đăng ký webhook (setWebhook):")
    assert "Bad Gateway" in body["bot"]["problem"]
    assert seen["status"]["bot_problem"] == body["bot"]["problem"]
    code, body = seen["accepted"]
    assert code == 200 and body["degraded"] is False and body["bot"]["problem"] is None
    assert fake_zalo_api.webhook == {"url": PUBLIC + WEBHOOK_PATH, "secret_token": SECRET}
    assert fake_zalo_api.token not in str(seen)


def test_a_rehearsal_in_webhook_mode_neither_sets_nor_deletes_the_real_webhook(
    initialized_cli: Cli, fake_zalo_api: FakeZaloApi
) -> None:
    real = {"url": PUBLIC + WEBHOOK_PATH, "secret_token": "the-real-daemons-secret"}
    fake_zalo_api.webhook = dict(real)  # set by the daemon in production
    # The real daemon's settings, as a rehearsal next to it finds them.
    initialized_cli.env.update(
        {
            "DONDOC_ZALO__TOKEN": fake_zalo_api.token,
            "DONDOC_ZALO__API_URL": fake_zalo_api.url,
            "DONDOC_ZALO__WEBHOOK_SECRET": SECRET,
            "DONDOC_PUBLIC_URL": PUBLIC,
            "DONDOC_HTTP_PORT": str(_free_port()),
        }
    )
    done = initialized_cli("run", "--simulate", "2026-12-01", "2026-12-03")
    assert done.exit_code == 0, done.stderr
    assert "Diễn tập: Zalo đang ở chế độ webhook" in done.stderr
    assert fake_zalo_api.webhook == real
    assert fake_zalo_api.polls == 0  # polling would have deleted it first
    assert fake_zalo_api.token not in done.stdout + done.stderr
