"""The integration API (/api/v1): tokens, read and write endpoints, plan import."""

from __future__ import annotations

from dondoc.api.app import create_api

__all__ = ["create_api"]
