"""create_api: the integration API, mounted at /api/v1 on the web app.

A FastAPI app of its own, so its errors are problem+json while the web pages keep their
HTML error pages, and its OpenAPI description (/api/v1/openapi.json, browsable at
/api/v1/docs) covers the API alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy.engine import Engine

import dondoc.api.feed as feed
import dondoc.api.imports as imports
import dondoc.api.reads as reads
import dondoc.api.writes as writes
from config.settings import Settings
from dondoc.api.deps import ApiContext
from dondoc.api.problems import install_handlers
from dondoc.clock import Clock

if TYPE_CHECKING:
    from dondoc.web.deps import RuleConfigCache

DESCRIPTION = """API tích hợp của dondoc: kế hoạch, nhiệm vụ, phân công, cơ quan; ghi nhận
đã nhận, hoàn thành, giải trình, gia hạn; nhập kế hoạch.

Mọi yêu cầu cần `Authorization: Bearer <mã>` (tạo bằng `dondoc token create`). Thao tác ghi
cần mã có scope `write` và tiêu đề `Idempotency-Key`. Lỗi trả về theo RFC 9457
(`application/problem+json`)."""


def create_api(
    *, engine: Engine, settings: Settings, clock: Clock, rules: RuleConfigCache
) -> FastAPI:
    """`rules`: the web app's cache of the rule config (the office's milestone dates)."""
    api = FastAPI(
        title="dondoc API",
        version="1",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.api = ApiContext(engine=engine, settings=settings, clock=clock, rules=rules)
    install_handlers(api)
    # The import route comes first: /plans/import must not be read as /plans/{plan_id}.
    api.include_router(imports.router)
    api.include_router(reads.router)
    api.include_router(writes.router)
    api.include_router(feed.router)
    return api
