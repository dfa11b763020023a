"""Whoever may edit wording cannot run code: every template renders in Jinja's sandbox."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from sqlmodel import select

from dondoc.models import OutboxMessage
from dondoc.store import session_scope
from notifiers.render import BUNDLED_TEMPLATES, Renderer, RenderError
from notifiers.template_check import check_templates, sample_item

pytest_plugins = ["fakes.fixtures"]

# The classic ways out of a template to os/subprocess; each would run `touch MARKER`.
ATTACKS = {
    "cycler": "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "lipsum": "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "subclasses": (
        "{% for c in ().__class__.__base__.__subclasses__() %}"
        "{% if c.__name__ == 'Popen' %}{{ c(['touch', 'MARKER']) }}{% endif %}{% endfor %}"
    ),
    "attr filter": (
        "{{ (cycler|attr('__init__')|attr('__globals__'))['os'].popen('touch MARKER').read() }}"
    ),
    "self": "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch MARKER') }}",
}


def _attack_dir(tmp_path: Path, attack: str, *, template: str = "upcoming") -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    folder = tmp_path / "templates"
    (folder / "vi").mkdir(parents=True)
    (folder / "vi" / f"{template}.j2").write_text(
        '{% extends "vi/_base.j2" %}\n'
        "{% block intro %}\n"
        "Lời nhắc của tỉnh.\n" + attack.replace("MARKER", str(marker)) + "\n{% endblock %}\n",
        encoding="utf-8",
    )
    return folder, marker


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_template_reaching_for_os_is_refused_with_its_file_and_line(
    tmp_path: Path, attack: str
) -> None:
    folder, marker = _attack_dir(tmp_path, attack)
    with pytest.raises(RenderError) as caught:
        Renderer(templates_dir=folder).render(
            "upcoming", items=[sample_item()], locale="vi", today=date(2022, 12, 5)
        )
    assert not marker.exists()
    assert f"{folder / 'vi' / 'upcoming.j2'}:4" in str(caught.value)
    assert "sandbox" in str(caught.value)


def test_a_python_object_in_the_data_cannot_be_opened_either() -> None:
    renderer = Renderer()
    item = sample_item()
    item["task"]["title"] = "{{ cycler.__init__.__globals__ }}"
    out = renderer.render("upcoming", items=[item], locale="vi", today=date(2022, 12, 5))
    assert "{{ cycler.__init__.__globals__ }}" in out.text  # shown as written, never run


def test_the_bundled_templates_pass_the_check_against_the_sample_messages(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_TEMPLATES, tmp_path / "copy")
    assert check_templates(tmp_path / "copy") == []


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_config_check_names_the_sandbox_violation_and_exits_2(
    cli: Cli, tmp_path: Path, attack: str
) -> None:
    folder, marker = _attack_dir(tmp_path, attack)
    cli.env["DONDOC_TEMPLATES_DIR"] = str(folder)
    result = cli("config", "check")
    assert result.exit_code == 2, result.stdout
    assert not marker.exists()
    assert f"Thư mục mẫu tin {folder} có" in result.stderr
    assert f"{folder / 'vi' / 'upcoming.j2'}:4: " in result.stderr
    assert "sandbox" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_renders_custom_templates_and_reports_a_runtime_violation(
    cli: Cli, tmp_path: Path
) -> None:
    # No private name to spot in the text: the sandbox refuses a billion-item range (a
    # memory bomb) only when the template runs.
    folder, _ = _attack_dir(tmp_path, "{{ range(10**9)|list|length }}")
    cli.env["DONDOC_TEMPLATES_DIR"] = str(folder)
    result = cli("config", "check")
    assert result.exit_code == 2
    assert f"{folder / 'vi' / 'upcoming.j2'}:4: OverflowError" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_reports_a_template_that_uses_an_unknown_value(
    cli: Cli, tmp_path: Path
) -> None:
    folder, _ = _attack_dir(tmp_path, "{{ task.nguoi_ky }}", template="overdue")
    cli.env["DONDOC_TEMPLATES_DIR"] = str(folder)
    result = cli("config", "check")
    assert result.exit_code == 2
    assert f"{folder / 'vi' / 'overdue.j2'}:4: " in result.stderr
    assert "nguoi_ky" in result.stderr


def test_config_check_accepts_a_harmless_custom_template(cli: Cli, tmp_path: Path) -> None:
    folder, _ = _attack_dir(tmp_path, "Sở {{ agency.name }} lưu ý STT {{ task.number }}.")
    cli.env["DONDOC_TEMPLATES_DIR"] = str(folder)
    result = cli("config", "check")
    assert result.exit_code == 0, result.stderr


def test_the_daemon_refuses_the_template_sends_nothing_from_it_and_runs_nothing(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    folder, marker = _attack_dir(tmp_path, ATTACKS["lipsum"])
    app = make_app(tmp_path, smtp_sink, templates_dir=folder)
    simulate(app, at("2022-12-20"))
    assert not marker.exists()
    assert not any("uid=" in (m.text or "") for m in smtp_sink.messages)
    with session_scope(app.engine) as session:
        upcoming = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.stage == "upcoming", OutboxMessage.channel == "email"
            )
        ).all()
    assert upcoming and all(row.status == "failed" for row in upcoming)
    error = upcoming[0].last_error or ""
    assert f"{folder / 'vi' / 'upcoming.j2'}:4" in error and "sandbox" in error
    # The office hears of the failure (with the reason), from a bundled template.
    notices = [m for m in smtp_sink.messages if "upcoming.j2" in (m.text or "")]
    assert notices and all(m.recipients == ["vp-ubnd@tinhmau.example"] for m in notices)
