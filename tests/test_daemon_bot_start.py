"""A Bot API that is down when the daemon starts: email goes on, health says so, the bot
is retried in the background. The real bot stack against the fake Bot API."""

from __future__ import annotations

import socket
from pathlib import Path

from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from fakes.telegram_api import FakeBotApi

pytest_plugins = ["fakes.fixtures"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_email_goes_out_while_the_bot_api_is_down(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    port = free_port()  # nothing listens there
    app = make_app(
        tmp_path,
        smtp_sink,
        telegram={
            "token": "123456789:TEST-dondoc-fake-token",
            "api_url": f"http://127.0.0.1:{port}",
        },
    )
    daemon = simulate(app, at("2022-12-20"))  # returns: no exception, no exit 1
    assert [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    health = daemon.health()
    assert health["bot"]["ok"] is False and "bot Telegram" in health["bot"]["error"]
    assert health["degraded"] is True
    assert "TEST-dondoc-fake-token" not in health["bot"]["error"]


async def test_a_bot_that_could_not_start_is_started_when_the_api_returns(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    fake = FakeBotApi(port=free_port())
    app = make_app(
        tmp_path,
        smtp_sink,
        telegram={"token": fake.token, "api_url": f"http://127.0.0.1:{fake.port}"},
    )
    daemon = app.build_daemon()
    await daemon._start_bot()
    assert daemon.health()["bot"]["ok"] is False
    retry = daemon._bot_retry
    assert retry is not None and not retry.done()  # tried again in the background
    retry.cancel()
    with fake:
        await daemon._retry_bot(first=0.1)
        assert daemon.health()["bot"] == {"ok": True, "error": None, "problem": None}
        assert fake.get_updates_calls or fake.calls_to("getMe")
        assert daemon.bot is not None
        await daemon.bot.stop()
