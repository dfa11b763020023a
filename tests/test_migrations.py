"""Migrations: the schema comes from alembic on every backend, and matches the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import dondoc.models  # noqa: F401  (the tables the migrations must match)
from dondoc.errors import UserError
from dondoc.models import Agency, AuditEntry
from dondoc.store import (
    MIGRATIONS,
    SCHEMA_HEAD,
    make_engine,
    migrate,
    require_current_schema,
    schema_is_current,
    session_scope,
)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def test_upgrading_an_empty_store_creates_every_table_the_models_declare(engine: Engine) -> None:
    assert table_names(engine) == set(SQLModel.metadata.tables)
    assert schema_is_current(engine)


def test_the_migrated_schema_matches_the_models_exactly(engine: Engine) -> None:
    assert schema_differences(engine) == []


def test_downgrading_to_base_and_up_again_gives_the_same_schema(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "base")
    assert table_names(engine) == set()
    assert not schema_is_current(engine)
    migrate(engine)
    assert table_names(engine) == set(SQLModel.metadata.tables)
    assert schema_differences(engine) == []


def test_migrating_a_current_store_again_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Agency(code="so-noi-vu", name="Sở Nội vụ"))
    migrate(engine)
    with Session(engine) as session:
        assert [a.code for a in session.exec(select(Agency))] == ["so-noi-vu"]


def test_a_store_that_was_never_initialized_asks_for_dondoc_init(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        with pytest.raises(UserError) as caught:
            require_current_schema(engine)
    finally:
        engine.dispose()
    assert "hãy chạy `dondoc init`" in caught.value.message


def test_the_quick_schema_check_names_the_newest_migration(engine: Engine) -> None:
    # `schema_is_current` trusts a store stamped SCHEMA_HEAD without asking alembic: a
    # migration added without moving SCHEMA_HEAD would let an outdated store through.
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD


def test_a_store_one_migration_behind_is_not_current(engine: Engine) -> None:
    config = alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    previous = script.get_revision(SCHEMA_HEAD).down_revision
    assert isinstance(previous, str)
    command.downgrade(config, previous)
    assert not schema_is_current(engine)
    with pytest.raises(UserError) as caught:
        require_current_schema(engine)
    assert caught.value.message == (
        "Cơ sở dữ liệu chưa được khởi tạo hoặc cần nâng cấp: hãy chạy `dondoc init`."
    )
    migrate(engine)
    assert schema_is_current(engine)


def test_a_store_stamped_with_an_unknown_revision_is_not_current(engine: Engine) -> None:
    # A store written by a newer dondoc: the quick check defers to alembic, which does
    # not know the revision either.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    assert not schema_is_current(engine)


def test_timestamps_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    hanoi = timezone(timedelta(hours=7))
    moment = datetime(2023, 3, 31, 17, 0, tzinfo=hanoi)
    with session_scope(engine) as session:
        session.add(AuditEntry(at=moment, actor="test", action="check"))
    with Session(engine) as session:
        stored = session.exec(select(AuditEntry)).one().at
    assert stored == moment
    assert stored.tzinfo == UTC


def test_a_naive_timestamp_is_refused_rather_than_guessed(engine: Engine) -> None:
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        session_scope(engine) as session,
    ):
        session.add(AuditEntry(at=datetime(2023, 3, 31, 17, 0), actor="test", action="check"))
        session.flush()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(
    sqlite_engine: Engine,
) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite", "DONDOC_DATABASE_URL không hợp lệ; ví dụ:"),
        ("mysql://dondoc:hunter2@127.0.0.1/dondoc", "không hỗ trợ loại cơ sở dữ liệu 'mysql'"),
    ],
)
def test_an_unusable_database_url_is_a_user_error_without_the_password(
    url: str, expected: str
) -> None:
    with pytest.raises(UserError) as caught:
        make_engine(url)
    assert expected in caught.value.message
    assert "hunter2" not in caught.value.message


def test_a_postgresql_url_without_a_driver_uses_psycopg() -> None:
    engine = make_engine("postgresql://dondoc@127.0.0.1/dondoc")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_a_database_that_does_not_answer_is_one_line() -> None:
    engine = make_engine("postgresql://dondoc:hunter2@127.0.0.1:1/dondoc")
    try:
        with pytest.raises(UserError) as caught:
            migrate(engine)
    finally:
        engine.dispose()
    assert caught.value.message.startswith("Không mở được cơ sở dữ liệu: ")
    assert "\n" not in caught.value.message
    assert "hunter2" not in caught.value.message
