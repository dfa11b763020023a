"""Sign-in and API tokens are throttled apart: an integration sending a stale token
from the office's address does not lock the office out of the web app, and people
mistyping their passwords do not cut the integrations off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from dondoc.api.tokens import (
    MAX_FAILURES_PER_ADDRESS as API_LIMIT,
)
from dondoc.api.tokens import (
    Caller,
    Throttled,
    authenticate,
    create_token,
)
from dondoc.store import session_scope
from dondoc.web.accounts import MAX_FAILURES_PER_ADDRESS as WEB_LIMIT
from dondoc.web.accounts import SignedIn, ThrottledError, add_user, sign_in

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
OFFICE = "203.0.113.7"  # one NAT address for the whole office
PASSWORD = "mot-mat-khau-du-dai"


def _bad_token(engine: Engine) -> object:
    with session_scope(engine) as session:
        return authenticate(
            session, header="Bearer ddk_stale", address=OFFICE, path="/api/v1/plans", now=NOW
        )


def _sign_in(engine: Engine, name: str, password: str) -> SignedIn | None:
    with session_scope(engine) as session:
        return sign_in(session, name=name, password=password, address=OFFICE, now=NOW)


def test_bad_api_tokens_do_not_throttle_sign_in_from_the_same_address(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine
    with session_scope(engine) as session:
        add_user(session, name="vanthu", role="viewer", password=PASSWORD, actor="cli", now=NOW)
    for _ in range(API_LIMIT):
        assert _bad_token(engine) is None
    assert isinstance(_bad_token(engine), Throttled)  # the API's own limit holds
    # Up to the web's own limit, a mistyped password is only refused, not throttled.
    for _ in range(4):
        assert _sign_in(engine, "vanthu", "sai-mat-khau-roi") is None
    signed = _sign_in(engine, "vanthu", PASSWORD)
    assert signed is not None and signed.name == "vanthu"


def test_mistyped_passwords_do_not_cut_off_the_api_from_the_same_address(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine
    with session_scope(engine) as session:
        token = create_token(
            session, name="lgsp", scope="read", plan=None, agency=None, actor="cli", now=NOW
        )
    for n in range(WEB_LIMIT):
        assert _sign_in(engine, f"nguoi{n % 4}", "sai-mat-khau-roi") is None
    with pytest.raises(ThrottledError):  # the web's own limit holds
        _sign_in(engine, "nguoi9", "sai-mat-khau-roi")
    with session_scope(engine) as session:
        caller = authenticate(
            session, header=f"Bearer {token}", address=OFFICE, path="/api/v1/plans", now=NOW
        )
    assert isinstance(caller, Caller) and caller.name == "lgsp"
