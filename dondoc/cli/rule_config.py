"""The rule config as commands use it: checked against the store's agencies and the
templates there are. Apart from `dondoc config check` so that `dondoc preview` loads the
config without the console, the template engine, or the checks of that command."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from config.rules_loader import load_rule_config
from dondoc.app import App
from dondoc.errors import UserError
from dondoc.models import Agency
from dondoc.store import schema_is_current, session_scope
from notifiers.template_names import available_templates as templates_in
from rules.policy import RuleConfig


def store_agencies(app: App) -> list[str] | None:
    """Agency codes of the store, or None when there is no initialised store to ask."""
    url = sa.engine.make_url(app.settings.db_url)
    if url.get_backend_name() == "sqlite" and (
        not url.database or not Path(url.database).is_file()
    ):
        return None  # opening it would create an empty database file
    try:
        if not schema_is_current(app.engine):
            return None
        with session_scope(app.engine) as session:
            return list(session.exec(select(Agency.code)).all())
    except (sa.exc.SQLAlchemyError, UserError):
        return None


def available_templates(app: App) -> set[str]:
    return templates_in(app.settings.templates_dir)


def load_checked_config(app: App, path: Path | None = None) -> tuple[RuleConfig, list[str]]:
    """The rule config with every check the environment allows, and notes on skipped ones."""
    notes = []
    agencies = store_agencies(app)
    if agencies is None:
        notes.append(
            "Chưa có cơ sở dữ liệu (chạy `dondoc init`): bỏ qua kiểm tra mã cơ quan. "
            "(No store yet: agency codes were not checked.)"
        )
    config = load_rule_config(
        path or app.settings.rules_path, agencies=agencies, templates=available_templates(app)
    )
    return config, notes
