"""One chat floods the bot; how long does another chat wait for its answer?

The real python-telegram-bot stack polls a local fake Bot API that enforces Telegram's
limits (1 message a second per chat). Chat A sends 300 wrong `/start` codes, then chat B
sends `/help`. Before issue 16, updates were handled one at a time and every wrong code
was answered: B waited 4 min 40 s. Target: B waits about as long as with no flood
(ratio ≈ 1), and A gets a handful of answers, not 300.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from config.settings import Settings, TelegramSettings
from dondoc.clock import SystemClock
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.store import make_engine, migrate, session_scope
from notifiers.telegram_bot import build_bot
from tests.fakes.telegram_api import FakeBotApi, Limits

FLOOD = 300
FLOODER, OTHER = 6006, 7007


async def _answer_time(fake: FakeBotApi, flood: int) -> float:
    for number in range(flood):
        fake.user_says(FLOODER, f"/start WRONG-{number:05d}")
    before = len(fake.sent(OTHER))
    start = time.monotonic()
    fake.user_says(OTHER, "/help")
    await fake.wait_until(lambda: len(fake.sent(OTHER)) > before, timeout=600)
    return time.monotonic() - start


async def _run(folder: Path) -> None:
    engine = make_engine(f"sqlite:///{folder / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with FakeBotApi(limits=Limits()) as fake:
        settings = Settings(
            data_dir=folder,
            telegram=TelegramSettings(token=SecretStr(fake.token), api_url=fake.url),
        )
        runner = build_bot(settings=settings, engine=engine, clock=SystemClock(), poll_timeout=1)
        await runner.start()
        try:
            quiet = await _answer_time(fake, 0)
            flooded = await _answer_time(fake, FLOOD)
            await asyncio.sleep(2)  # let the flood's last updates be handled
        finally:
            await runner.stop()
        answers = len(fake.sent(FLOODER))
    engine.dispose()
    print(f"chat flood: another chat answered in {quiet:.2f} s without a flood")
    print(f"chat flood: {flooded:.2f} s behind {FLOOD} wrong codes (ratio {flooded / quiet:.1f})")
    print(f"chat flood: the flooding chat got {answers} answers for {FLOOD} attempts")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(Path(folder)))


if __name__ == "__main__":
    main()
