"""The stored form of a shared render context: the same bytes the standard library's
canonical JSON gives, so digests stored by earlier versions still find their rows."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.sample import reminder_context
from dondoc.outbox import canonical

# What a render context holds: text (Vietnamese, control characters, emoji, quotes),
# whole numbers, booleans, nothing, and lists and objects of those.
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), _TEXT)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=20,
)


def _stdlib(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_a_real_reminder_context_is_stored_as_the_standard_library_writes_it() -> None:
    for n in range(5):
        body = reminder_context(n)
        assert canonical(body) == _stdlib(body)
        assert json.loads(canonical(body)) == body


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_TEXT, _VALUE, max_size=6))
def test_any_context_is_stored_as_the_standard_library_writes_it(body: dict[str, Any]) -> None:
    assert canonical(body) == _stdlib(body)
