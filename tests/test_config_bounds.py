"""Loading a rule config is bounded: a hostile or mistyped file gets a located refusal,
never a hang, a traceback or a megabyte log line, in `config check` and in a live reload."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from config.yaml_source import MAX_ALIASES, MAX_BYTES, MAX_DEPTH

pytest_plugins = ["fakes.fixtures"]

DEFAULT = BUNDLED_RULES.read_text(encoding="utf-8")


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['lol0: &lol0 "lol"']
    for n in range(1, levels + 1):
        lines.append(f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * width)}]")
    return "\n".join(lines) + "\n" + DEFAULT


def check(cli: Cli, path: Path) -> tuple[int, str]:
    result = cli("config", "check", str(path), timeout=30)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def test_billion_laughs_is_refused_at_once_naming_the_alias_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    code, stderr = check(cli, path)
    assert code == 2
    assert f"{path}:2:" in stderr or f"{path}:3:" in stderr
    assert f"more than {MAX_ALIASES} alias expansions" in stderr


def test_a_file_over_the_size_limit_is_refused_unread(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(DEFAULT + "#" * MAX_BYTES + "\n", encoding="utf-8")
    code, stderr = check(cli, path)
    assert code == 2
    assert f"{path}:1:1: tệp quá lớn" in stderr
    assert f"{MAX_BYTES // 1024} KB" in stderr


def test_deep_nesting_is_refused_at_the_level_that_crosses_the_limit(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(DEFAULT + "milestones: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, stderr = check(cli, path)
    assert code == 2
    line = DEFAULT.count("\n") + 1
    assert f"{path}:{line}:" in stderr
    assert f"nesting deeper than {MAX_DEPTH} levels" in stderr


def test_an_absurd_duration_names_its_field_and_the_range(cli: Cli, tmp_path: Path) -> None:
    text = re.sub(r"(?m)^ack_timeout: \S+", "ack_timeout: 99999999999999999999999d", DEFAULT)
    assert text != DEFAULT
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    code, stderr = check(cli, path)
    assert code == 2
    line = text[: text.index("ack_timeout:")].count("\n") + 1
    assert f"{path}:{line}:1: ack_timeout: khoảng thời gian '99999999999999999999999d' quá dài" in (
        stderr
    )
    assert "366" in stderr


@pytest.mark.parametrize(
    ("old", "new", "field", "limit"),
    [
        ("      at: -14d\n", "      at: -99999999999999999999d\n", "at", "366"),
        ("{every: 7d, max: 3}", "{every: 999999999999d, max: 3}", "every", "366"),
        ("{every: 7d, max: 3}", "{every: 7d, max: 99999999999999999999}", "max", "52"),
        ("      every: 1 month\n", "      every: 99999999999999999 months\n", "every", "12"),
    ],
)
def test_every_number_in_the_rules_has_a_range(
    tmp_path: Path, old: str, new: str, field: str, limit: str
) -> None:
    assert old in DEFAULT, old
    path = tmp_path / "rules.yaml"
    path.write_text(DEFAULT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rule_config(path)
    (problem,) = caught.value.problems
    assert f".{field}: " in problem and limit in problem
    assert problem.startswith(f"{path}:")


def test_the_merge_key_shares_stage_settings_and_the_stage_s_own_keys_win(
    tmp_path: Path,
) -> None:
    text = re.sub(
        r"\n    - name: upcoming[^\n]*\n",
        "\n    - <<: [*email_only, {template: overdue}]\n      name: upcoming\n",
        DEFAULT.replace(
            "policies:", "x: &email_only {channels: [email], template: due_today}\npolicies:", 1
        ),
        count=1,
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:  # the anchor's holder is no rule-config key
        load_rule_config(path)
    assert [p.split(": ")[1] for p in caught.value.problems] == ["x"]
    # Anchored where it is first used, the same merge is a valid config.
    path.write_text(
        text.replace("x: &email_only {channels: [email], template: due_today}\n", "").replace(
            "<<: [*email_only, {template: overdue}]",
            "<<: [&email_only {channels: [email], template: due_today}, {template: overdue}]",
        ),
        encoding="utf-8",
    )
    config = load_rule_config(path)
    upcoming = next(s for s in config.policies["standard"].root if s.name == "upcoming")
    assert upcoming.channels == ("email",)
    assert upcoming.template == "upcoming"  # written in the stage: wins over both merged maps


def test_a_merge_key_with_a_plain_value_is_refused_with_its_line(tmp_path: Path) -> None:
    text = DEFAULT.replace("    - name: upcoming\n", "    - <<: 3\n      name: upcoming\n", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rule_config(path)
    line = text[: text.index("<<: 3")].count("\n") + 1
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:{line}:")
    assert "merge key" in problem


def test_a_reload_of_a_hostile_file_keeps_the_rules_logs_short_lines_then_clears_the_error(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture, cli: Cli
) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(BUNDLED_RULES, rules)
    app = make_app(tmp_path, smtp_sink, rules_file=rules)
    daemon = simulate(app, at("2022-12-01"))
    # 10^5 expansions of a long string: once logged as one 7 MB line.
    rules.write_text(
        'a: &a "' + "x" * 70 + '"\nb: &b [' + ", ".join(["*a"] * 10) + "]\n"
        "c: &c [" + ", ".join(["*b"] * 10) + "]\nd: [" + ", ".join(["*c"] * 1000) + "]\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.ERROR, logger="dondoc.daemon"):
        simulate(app, at("2022-12-05"), daemon)
    errors = [r.getMessage() for r in caplog.records if r.name == "dondoc.daemon"]
    assert errors and max(len(line) for line in errors) < 2000
    assert daemon.health()["config_error"].startswith(f"{rules}:")
    rejected = cli("status", "--json")
    assert json.loads(rejected.stdout)["daemon"]["config_error"].startswith(f"{rules}:")

    shutil.copy(BUNDLED_RULES, rules)  # the admin fixes it
    simulate(app, at("2022-12-06"), daemon)
    assert daemon.health()["config_error"] is None
    fixed = cli("status", "--json")
    assert json.loads(fixed.stdout)["daemon"]["config_error"] is None
    assert "Cấu hình bị từ chối" not in cli("status").stdout


def test_a_date_that_does_not_exist_is_located_not_a_traceback(tmp_path: Path) -> None:
    assert DEFAULT.count("milestones: {}") == 1
    text = DEFAULT.replace("milestones: {}", "milestones: {de-an-06: 2022-13-45}")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rule_config(path)
    (problem,) = caught.value.problems
    line = text[: text.index("milestones:")].count("\n") + 1
    assert problem.startswith(f"{path}:{line}:")
    assert "'2022-13-45' không hợp lệ" in problem
