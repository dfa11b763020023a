"""The composition root: settings, clock and engine are built here and passed down."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from config.settings import Settings, load_settings
from dondoc.clock import Clock, SystemClock
from dondoc.store import make_engine, require_current_schema

if TYPE_CHECKING:
    from scheduler.chat_side import Bot
    from scheduler.daemon import Daemon

log = logging.getLogger("dondoc")


@dataclass
class Bots:
    """Several inbound bots (Telegram, Zalo) started and stopped as one."""

    bots: list[Bot]

    async def start(self) -> None:
        for bot in self.bots:
            await bot.start()

    async def stop(self) -> None:
        for bot in reversed(self.bots):
            await bot.stop()

    def problem(self) -> str | None:
        problems = [found for bot in self.bots if (found := bot.problem()) is not None]
        return "; ".join(problems) or None


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.db_url)
        return self._engine

    def ready_engine(self) -> Engine:
        """The engine of a store that `dondoc init` has created and migrated."""
        require_current_schema(self.engine)
        return self.engine

    def build_daemon(self, *, rehearsal: bool = False) -> Daemon:
        """Wire the daemon: channels, renderer and, when configured, the chat bots.

        A `rehearsal` (`--simulate`) serves no HTTP, so it cannot take Zalo's webhook
        pushes; nor may it register or delete the webhook, which belongs to the real
        daemon. In webhook mode it sends on Zalo and reads nothing from it."""
        from notifiers.registry import build_channels
        from notifiers.render import Renderer
        from scheduler.daemon import Daemon
        from scheduler.http import LateApp
        from scheduler.metrics import Metrics

        settings = self.settings
        engine = self.ready_engine()
        bot = None
        if settings.telegram.token is not None:
            from notifiers.telegram_bot import build_bot

            bot = build_bot(settings=settings, engine=engine, clock=self.clock)
        pollers: list[Bot] = [bot] if bot is not None else []
        zalo = None
        if settings.zalo.token is not None:
            from notifiers.zalo_bot import build_poller
            from notifiers.zalo_webhook import webhook_setup

            webhook = webhook_setup(settings)
            zalo = build_poller(
                settings=settings,
                engine=engine,
                clock=self.clock,
                webhook=None if rehearsal else webhook,
            )
            if rehearsal and webhook is not None:
                log.warning(
                    "Diễn tập: Zalo đang ở chế độ webhook, bản diễn tập chỉ gửi tin Zalo, "
                    "không nhận trả lời và không đổi webhook của daemon thật "
                    "(a rehearsal in webhook mode sends on Zalo and reads nothing)"
                )
            else:
                pollers.append(zalo)
        # Reminders share the inbound bots' connections and flood-limit budgets.
        channels = build_channels(
            settings,
            telegram_bot=bot.bot if bot else None,
            clock=self.clock,
            zalo_client=zalo.client if zalo else None,
        )
        from notifiers.webhook import WebhookChannel

        # Webhooks need no setting: a subscription (`dondoc webhook add`) is enough.
        channels["webhook"] = WebhookChannel(clock=self.clock)
        from dondoc.web.links import email_links

        renderer = Renderer(
            templates_dir=settings.templates_dir,
            links=email_links(settings=settings, engine=engine, clock=self.clock),
        )
        metrics = Metrics()
        # Built by the daemon after its first tick: FastAPI and the API's models take a
        # second or more to import, which the first tick need not wait for.
        late_web = LateApp(lambda: self._web_app(engine))
        web_app: Any = late_web
        if zalo is not None and zalo.webhook is not None:
            from notifiers.zalo_webhook import with_webhook

            # Zalo's pushes arrive on the daemon's own port, next to the web pages.
            web_app = with_webhook(
                web_app, zalo, secret=zalo.webhook.secret, registry=metrics.registry
            )
        return Daemon(
            settings=settings,
            engine=engine,
            clock=self.clock,
            channels=channels,
            renderer=renderer,
            bot=(pollers[0] if len(pollers) == 1 else Bots(pollers)) if pollers else None,
            metrics=metrics,
            web_app=web_app,
            late_web=late_web,
        )

    def _web_app(self, engine: Engine) -> Any:
        """The office's web app for the daemon's HTTP port, when a signing key exists.

        Without one (a store made before the web app, never re-initialised) the daemon
        still runs and says how to turn the pages on, rather than refusing to remind."""
        settings = self.settings
        if settings.secret_key is None and not settings.secret_key_path.exists():
            log.warning(
                "Trang web tắt: chưa có khóa ký; hãy chạy `dondoc init` rồi khởi động lại "
                "(the web app is off until `dondoc init` creates a signing key)"
            )
            return None
        from dondoc.web import create_app

        return create_app(engine=engine, settings=settings, clock=self.clock)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def build_app(clock: Clock | None = None) -> App:
    return App(settings=load_settings(), clock=clock or SystemClock())
