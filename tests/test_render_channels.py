"""Delivery renders only what a channel sends, and exactly what a full render gives it."""

from __future__ import annotations

from datetime import date

import pytest

from bench.sample import reminder_context
from notifiers.render import Renderer

TODAY = date(2022, 11, 27)


@pytest.mark.parametrize("channel", ["email", "telegram", "zalo"])
def test_a_channel_gets_the_same_message_from_its_own_parts(channel: str) -> None:
    renderer = Renderer()
    items = [reminder_context(7), reminder_context(8)]  # a digest
    full = renderer.render("upcoming", items=items, locale="vi", today=TODAY)
    own = renderer.render("upcoming", items=items, locale="vi", today=TODAY, channel=channel)
    address = "so-khcn@tinhmau.test" if channel == "email" else "12345"
    assert own.message(channel=channel, address=address) == full.message(
        channel=channel, address=address
    )
    assert full.text and full.telegram and full.html  # the full render has every part


def test_parts_a_channel_does_not_send_are_not_rendered() -> None:
    renderer = Renderer()
    email = renderer.render(
        "overdue", items=[reminder_context(3)], locale="en", today=TODAY, channel="email"
    )
    assert email.subject and email.text and email.html
    assert (email.telegram, email.zalo) == ("", "")
    telegram = renderer.render(
        "overdue", items=[reminder_context(3)], locale="vi", today=TODAY, channel="telegram"
    )
    assert telegram.subject and telegram.telegram and telegram.buttons
    assert (telegram.text, telegram.html, telegram.zalo) == ("", "", "")
