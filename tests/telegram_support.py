"""The Telegram bot under test: the real PTB Application polling the fake Bot API.

The daemon's delivery path is played by `Harness.remind`: it renders a reminder, sends
it through the Telegram channel sharing the bot's ExtBot, and records the SentMessage
the way scheduler/delivery.py does. Test modules get the `bot` fixture with

    pytest_plugins = ["fakes.fixtures", "telegram_support"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes.telegram_api import ChatMessage, FakeBotApi
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings, TelegramSettings
from dondoc.chat_links import create_invite
from dondoc.clock import ManualClock
from dondoc.extensions import load_parts, notice_context
from dondoc.models import Agency, Assignment, AuditEntry, SentMessage, Task
from dondoc.store import session_scope
from notifiers.render import Renderer
from notifiers.telegram_bot import BotRunner, build_bot
from notifiers.telegram_limits import TelegramRateLimiter

NOV_25_9AM = datetime(2022, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
NOI_VU_CHAT = 1001  # a private chat of Sở Nội vụ's clerk
TU_PHAP_GROUP = -2002  # the group chat of Sở Tư pháp


def assignment_id(engine: Engine, number: str, agency: str, role: str = "lead") -> int:
    with session_scope(engine) as session:
        row = session.exec(
            select(Assignment)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Task.number == number, Agency.code == agency, Assignment.role == role)
        ).one()
        return row.id or 0


def assignment(engine: Engine, id_: int) -> Assignment:
    with session_scope(engine) as session:
        row = session.get(Assignment, id_)
        if row is None:
            raise LookupError(id_)
        return row


def audit(engine: Engine, action: str) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


@dataclass
class Harness:
    fake: FakeBotApi
    engine: Engine
    clock: ManualClock
    runner: BotRunner
    settings: Settings
    renderer: Renderer

    async def link(self, chat: int, agency: str) -> None:
        with session_scope(self.engine) as session:
            invite = create_invite(
                session, agency_code=agency, hours=72, actor="cli", now=self.clock.now()
            )
        await self.says(chat, f"/start {invite.code}")

    async def says(self, chat: int, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """A person writes; returns the bot's answer."""
        before = len(self.fake.sent(chat))
        self.fake.user_says(chat, text, reply_to=reply_to)
        await self.fake.wait_until(lambda: len(self.fake.sent(chat)) > before)
        return self.fake.sent(chat)[before]

    async def presses(
        self, chat: int, message_id: int, label: str | None = None, *, data: str | None = None
    ) -> dict[str, Any]:
        """A person presses a button; returns the bot's answer to the press."""
        before = len(self.fake.callback_answers())
        self.fake.user_presses(chat, message_id, label, data=data)
        await self.fake.wait_until(lambda: len(self.fake.callback_answers()) > before)
        return self.fake.callback_answers()[before]

    async def remind(
        self, chat: int, assignment: int, *, template: str = "upcoming", **context: Any
    ) -> ChatMessage:
        return await self.remind_all(chat, [assignment], template=template, **context)

    async def remind_all(
        self, chat: int, assignments: list[int], *, template: str = "upcoming", **context: Any
    ) -> ChatMessage:
        """One message about `assignments` (a digest when several); the one with buttons."""
        items = []
        with session_scope(self.engine) as session:
            for assignment in assignments:
                parts = load_parts(session, assignment)
                item = notice_context(
                    session, parts=parts, recipient=parts.agency, template=template
                )
                items.append({**item, **context})
            locale, agency_id = parts.agency.locale, parts.agency.id
        today = self.clock.now().date()
        rendered = self.renderer.render(template, items=items, locale=locale, today=today)
        provider_id = await self.runner.channel.send(
            rendered.message(channel="telegram", address=str(chat))
        )
        chat_id, _, message_id = provider_id.rpartition(":")
        with session_scope(self.engine) as session:
            session.add(
                SentMessage(
                    channel="telegram",
                    chat_id=chat_id,
                    message_id=message_id,
                    agency_id=agency_id,
                    assignment_ids=assignments,
                    asks_explanation=any(i.get("ask_explanation") for i in items),
                    at=self.clock.now(),
                )
            )
        return self.fake.message(chat, int(message_id))


def bot_settings(fake: FakeBotApi, tmp_path: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        telegram=TelegramSettings(
            token=SecretStr(fake.token),
            api_url=fake.url,
            bot_username=fake.username,
        ),
    )


async def start_bot(settings: Settings, engine: Engine, clock: ManualClock) -> BotRunner:
    # Telegram's limits, but answers in one chat need not wait a second (see test_telegram_channel).
    limiter = TelegramRateLimiter(per_chat=0.0)
    runner = build_bot(
        settings=settings, engine=engine, clock=clock, poll_timeout=1, rate_limiter=limiter
    )
    await runner.start()
    return runner


@pytest.fixture
async def bot(
    fake_bot_api: FakeBotApi, plan_store: Engine, tmp_path: Any
) -> AsyncIterator[Harness]:
    settings = bot_settings(fake_bot_api, tmp_path)
    clock = ManualClock(NOV_25_9AM)
    harness = Harness(
        fake_bot_api, plan_store, clock, await start_bot(settings, plan_store, clock),
        settings, Renderer(),
    )  # fmt: skip
    yield harness
    await harness.runner.stop()
