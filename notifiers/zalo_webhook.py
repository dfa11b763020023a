"""Webhook mode for Zalo: the platform pushes each update to the daemon's HTTP port.

Chosen by settings (`webhook_setup`): with `DONDOC_PUBLIC_URL` (HTTPS) and
`DONDOC_ZALO__WEBHOOK_SECRET` the poller registers the webhook at start (setWebhook with
the secret) instead of polling; the platform refuses getUpdates while a webhook is set,
so a deployment is in one mode or the other, and polling mode deletes any webhook first.

Every push carries the secret back in the `X-Bot-Api-Secret-Token` header. `receive`
checks it in constant time (403 without it: nothing is read, the refusal is counted in
/metrics, the header's value is never logged) and hands the update to the poller, whose
`deliver` stores it once per Zalo event and returns: the platform hears 200 at once, from
whichever daemon it reached. The running poller (the chat leader's, when several daemons
share a PostgreSQL) answers stored pushes in arrival order through `process`, exactly as
polled updates, so a push retried by the platform, or sent to two daemons behind a load
balancer, is answered once, across restarts too.

Only a daemon serves the webhook, never `dondoc web` alone: the answers must come from
the one process that holds the bot's send budget and its chat throttles.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from config.settings import Settings
from dondoc.errors import UserError

if TYPE_CHECKING:
    from notifiers.zalo import ZaloClient


class PushTarget(Protocol):
    """What a push needs of the bot (notifiers.zalo_bot.ZaloPoller): named here, so the
    bot may import this module and not the other way round."""

    async def deliver(self, update: dict[str, Any]) -> bool: ...


log = logging.getLogger("dondoc.zalo")

WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "x-bot-api-secret-token"
# A text update is a few hundred bytes; anything far larger is not the platform.
MAX_BODY = 64 * 1024
# A refused push is logged at most this often: a scanner must not flood the log.
REFUSAL_LOG_EVERY = 60.0


@dataclass(frozen=True)
class WebhookSetup:
    public_url: str
    secret: str = ""

    @property
    def url(self) -> str:
        return self.public_url.rstrip("/") + WEBHOOK_PATH

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"WebhookSetup(url={self.url!r})"


class WebhookConfigError(UserError):
    def __init__(self, problem: str) -> None:
        super().__init__(
            f"Chế độ webhook Zalo không dùng được: {problem} Bỏ DONDOC_ZALO__WEBHOOK_SECRET "
            "để dùng chế độ hỏi tin (polling), không cần mở cổng."
        )


def webhook_setup(settings: Settings) -> WebhookSetup | None:
    """Webhook mode when the secret is set, polling (None) otherwise.

    The secret is the opt-in: DONDOC_PUBLIC_URL alone also serves email links and the web
    pages, so it is no request for webhook mode, and pushes are never taken without a
    secret; such a deployment keeps polling and is told how to switch. A secret that
    cannot work (no HTTPS address, no HTTP port) stops the start with what to change."""
    secret = settings.zalo.webhook_secret
    if secret is None:
        if settings.public_url:
            log.warning(
                "Zalo: DONDOC_PUBLIC_URL đã đặt nhưng chưa có DONDOC_ZALO__WEBHOOK_SECRET, "
                "bot tiếp tục hỏi tin (polling); đặt mã bí mật (8–256 ký tự) để dùng webhook "
                "(no webhook secret: Zalo keeps polling)"
            )
        return None
    if not settings.public_url:
        raise WebhookConfigError(
            "DONDOC_ZALO__WEBHOOK_SECRET đã đặt nhưng chưa có DONDOC_PUBLIC_URL, địa chỉ "
            "HTTPS mà Zalo gửi tin tới."
        )
    if not settings.public_url.startswith("https://"):
        raise WebhookConfigError(
            f"Zalo chỉ gửi tin tới địa chỉ HTTPS, còn DONDOC_PUBLIC_URL là {settings.public_url}."
        )
    if not settings.http_port:
        raise WebhookConfigError(
            "DONDOC_HTTP_PORT=0 tắt máy chủ HTTP của daemon, nơi nhận tin webhook "
            f"({WEBHOOK_PATH})."
        )
    return WebhookSetup(settings.public_url, secret.get_secret_value())


async def register(client: ZaloClient, *, public_url: str, secret: str) -> str:
    """Point the platform at `public_url` + WEBHOOK_PATH; the URL it now pushes to."""
    url = WebhookSetup(public_url).url
    await client.call("setWebhook", {"url": url, "secret_token": secret})
    return url


async def unregister(client: ZaloClient) -> None:
    """Back to polling."""
    await client.call("deleteWebhook")


async def receive(
    poller: PushTarget, *, secret: str, headers: Mapping[str, str], body: bytes
) -> int:
    """The HTTP status for one push: 403 without the right secret (nothing is read),
    400 for a body that is not a JSON object, 503 when the store cannot keep it (the
    platform delivers again later), else 200 once it is kept for the leader to answer."""
    given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return 403
    try:
        update = json.loads(body)
    except ValueError:
        return 400
    if not isinstance(update, dict):
        return 400
    # The platform may wrap the update like getUpdates does: {"ok": true, "result": {…}}.
    if isinstance(update.get("result"), dict):
        update = update["result"]
    return 200 if await poller.deliver(update) else 503


_RESULTS = {
    200: "accepted",
    400: "bad_request",
    403: "refused",
    413: "too_large",
    503: "not_stored",
}


def webhook_routes(
    poller: PushTarget, *, secret: str, registry: CollectorRegistry | None = None
) -> list[BaseRoute]:
    """POST WEBHOOK_PATH, counted by outcome in `registry` (the daemon's /metrics)."""
    pushes = Counter(
        "dondoc_zalo_webhook_updates",
        "Pushes received on the Zalo webhook, by result",
        ["result"],
        registry=registry,
    )
    last_logged = [0.0]

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        status = (
            413
            if len(body) > MAX_BODY
            else await receive(poller, secret=secret, headers=request.headers, body=body)
        )
        pushes.labels(_RESULTS.get(status, str(status))).inc()
        if status == 403 and time.monotonic() - last_logged[0] >= REFUSAL_LOG_EVERY:
            last_logged[0] = time.monotonic()
            client = request.client.host if request.client else "?"
            log.warning(
                "Zalo webhook: refused a push from %s without the right secret token "
                "(counted in dondoc_zalo_webhook_updates_total)",
                client,
            )
        return JSONResponse({"ok": status == 200}, status_code=status)

    return [Route(WEBHOOK_PATH, endpoint, methods=["POST"])]


def with_webhook(
    web_app: ASGIApp | None,
    poller: PushTarget,
    *,
    secret: str,
    registry: CollectorRegistry | None = None,
) -> ASGIApp:
    """The daemon's mounted app: the webhook path first, the web app for the rest."""
    routes = webhook_routes(poller, secret=secret, registry=registry)
    if web_app is not None:
        routes.append(Mount("/", app=web_app))
    return Starlette(routes=routes)
