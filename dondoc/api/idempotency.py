"""`Idempotency-Key`: a write done once per key and token; a retry gets the first answer.

The key, a hash of what was asked and the answer are stored in the same transaction as
the change itself, so either both are kept or neither: a retry after a lost answer finds
the stored one and changes nothing; the same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import Header
from sqlmodel import Session, col, select

from dondoc.api.problems import Problem
from dondoc.api.tokens import Caller
from dondoc.models_api import ApiIdempotency

KEEP_FOR = timedelta(days=30)  # a retry comes within minutes; a month is generous

KeyHeader = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    description="Khóa duy nhất cho mỗi thao tác (ví dụ một UUID); gửi lại cùng khóa khi thử "
    "lại, thao tác chỉ được thực hiện một lần.",
)


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stored(session: Session, who: Caller, key: str) -> ApiIdempotency | None:
    return session.exec(
        select(ApiIdempotency).where(ApiIdempotency.token_id == who.id, ApiIdempotency.key == key)
    ).first()


def once(
    session: Session,
    who: Caller,
    *,
    key: str,
    fingerprint: str,
    now: datetime,
    run: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed): the stored answer for a known key, else `run()`'s,
    stored with the key. Raises Problem(422) when the key came with another request."""
    found = stored(session, who, key)
    if found is not None:
        if found.request_hash != fingerprint:
            raise Problem(
                422,
                "Khóa Idempotency-Key này đã được dùng cho một yêu cầu khác; mỗi thao tác cần "
                "một khóa mới.",
                code="idempotency-key-reused",
            )
        return found.status_code, found.response, True
    status, body = run()
    session.execute(
        sa.delete(ApiIdempotency).where(col(ApiIdempotency.created_at) < now - KEEP_FOR)
    )
    session.add(
        ApiIdempotency(
            token_id=who.id,
            key=key,
            request_hash=fingerprint,
            status_code=status,
            response=body,
            created_at=now,
        )
    )
    session.flush()  # a concurrent request with the same key fails here, before commit
    return status, body, False
