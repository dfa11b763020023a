"""Webhook mode for Zalo, ready to be mounted by the daemon's web app (not mounted yet).

With a public HTTPS address the platform can push each update instead of being polled:
`register` calls setWebhook with our secret, and every push carries it back in the
`X-Bot-Api-Secret-Token` header. `receive` is the whole handler, independent of any web
framework: it checks the secret in constant time, reads the update and answers it
through the same poller code (notifiers/zalo_bot.py). Polling stops working while a
webhook is set (the platform refuses getUpdates), so a deployment uses one or the other.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping

from notifiers.zalo import ZaloClient
from notifiers.zalo_bot import ZaloPoller

WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "x-bot-api-secret-token"


async def register(client: ZaloClient, *, public_url: str, secret: str) -> str:
    """Point the platform at `public_url` + WEBHOOK_PATH; the URL it now pushes to."""
    url = public_url.rstrip("/") + WEBHOOK_PATH
    await client.call("setWebhook", {"url": url, "secret_token": secret})
    return url


async def unregister(client: ZaloClient) -> None:
    """Back to polling."""
    await client.call("deleteWebhook")


async def receive(
    poller: ZaloPoller, *, secret: str, headers: Mapping[str, str], body: bytes
) -> int:
    """The HTTP status for one push: 401 without the right secret (nothing is read),
    400 for a body that is not a JSON object, else 200 once the update is answered."""
    given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return 401
    try:
        update = json.loads(body)
    except ValueError:
        return 400
    if not isinstance(update, dict):
        return 400
    # The platform may wrap the update like getUpdates does: {"ok": true, "result": {…}}.
    if isinstance(update.get("result"), dict):
        update = update["result"]
    await poller.process(update)
    return 200
