"""docker-compose.yml: PostgreSQL plus two dondoc replicas. `docker compose config` is not
available on every machine that runs the tests, so the file is checked here as YAML and
against dondoc's own settings: every variable it sets is one dondoc reads, and the
environment it gives the daemons passes dondoc's settings validation."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import known_variables, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
# Compose's own interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}; $$ is a dollar.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _resolved(value: str, shell: dict[str, str]) -> str:
    """The value as compose hands it over, with the shell's variables (or the defaults)."""
    return INTERPOLATION.sub(lambda m: shell.get(m.group(1), m.group(2) or ""), value)


def test_the_compose_file_runs_postgresql_an_init_and_two_daemon_replicas() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "init", "dondoc"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["init"]["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert services["dondoc"]["image"] == services["init"]["image"]
    assert services["dondoc"]["command"] == ["dondoc", "run"]
    assert services["dondoc"]["deploy"]["replicas"] == 2
    assert services["dondoc"]["depends_on"]["init"]["condition"] == (
        "service_completed_successfully"
    )
    # Every service and volume referred to is declared.
    for service in services.values():
        for needed in service.get("depends_on", {}):
            assert needed in services
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"]
    # The replicas share one data volume (the signing key, the report files).
    assert services["dondoc"]["volumes"] == services["init"]["volumes"] == ["dondoc-data:/data"]


def test_every_variable_is_one_dondoc_reads_and_the_values_pass_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compose = _compose()
    services = compose["services"]
    environment = services["dondoc"]["environment"]
    assert environment == services["init"]["environment"]
    known = set(known_variables())
    unknown = [name for name in environment if name not in known]
    assert unknown == []
    db = services["db"]["environment"]
    url = _resolved(environment["DONDOC_DATABASE_URL"], {})
    assert url == (
        f"postgresql+psycopg://{db['POSTGRES_USER']}:{_resolved(db['POSTGRES_PASSWORD'], {})}"
        f"@db:5432/{db['POSTGRES_DB']}"
    )
    # What a daemon gets from a shell that sets the mail server and nothing else.
    shell = {"DONDOC_SMTP__HOST": "mail.tinhmau.example", "DONDOC_SMTP__PORT": "587"}
    for name in list(os.environ):
        if name.startswith("DONDOC_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        if value is None:  # passed only when the shell sets it
            if name in shell:
                monkeypatch.setenv(name, shell[name])
            continue
        monkeypatch.setenv(name, _resolved(str(value), shell))
    monkeypatch.setenv("DONDOC_DATA_DIR", str(tmp_path))  # /data does not exist here
    settings = load_settings()
    assert settings.db_url.startswith("postgresql+psycopg://")
    assert settings.http_host == "0.0.0.0" and settings.http_port == 8765
    assert settings.smtp.host == "mail.tinhmau.example" and settings.smtp.port == 587
    assert settings.delivery_lease == 300


def test_dollars_meant_for_the_shell_are_escaped_from_compose() -> None:
    command = " ".join(_compose()["services"]["init"]["command"])
    assert "--agencies" in command
    # A single $ would be compose's to replace (with nothing): the shell must see it.
    assert "$${DONDOC_AGENCIES_FILE" in command and "$$DONDOC_AGENCIES_FILE" in command
