"""The office's web app and the agencies' answer links (FastAPI, server-rendered Jinja).

`create_app(engine=…, settings=…, clock=…)` builds it; nothing is created at import.
FastAPI is imported only when `create_app` is first asked for: the daemon's renderer
needs `dondoc.web.links` at start-up, and should not pay for the whole web stack there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dondoc.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from dondoc.web.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
