"""Cursor pagination: a page is the rows after the cursor's id, in id order.

The cursor is opaque to clients (base64 of a small JSON object) so its contents may
change without breaking them; a row added or removed between pages neither repeats nor
skips the others, unlike an offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Query, Request

from dondoc.api.problems import Problem

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

LimitQuery = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Số mục mỗi trang (≤ 500)")
CursorQuery = Query(None, description="Con trỏ trang sau, lấy từ `next` của trang trước")


def encode_cursor(**values: Any) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        raise Problem(
            422,
            "Con trỏ trang (cursor) không hợp lệ: hãy dùng đúng giá trị `next` của trang trước.",
            code="bad-cursor",
        ) from None
    if not isinstance(values, dict):
        raise Problem(422, "Con trỏ trang (cursor) không hợp lệ.", code="bad-cursor")
    return values


def after_id(cursor: str | None) -> int:
    value = decode_cursor(cursor).get("id", 0)
    if not isinstance(value, int) or value < 0:
        raise Problem(422, "Con trỏ trang (cursor) không hợp lệ.", code="bad-cursor")
    return value


def next_link(request: Request, cursor: str | None) -> str | None:
    """The same request with the next page's cursor, or None on the last page."""
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))
