"""Settings: environment over an optional YAML file, clear one-line errors, secrets hidden."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Cli

from config.errors import ConfigError
from config.settings import load_settings

PASSWORD = "mật-khẩu-Bí-Mật-42"
TOKEN = "123456:AAE-secret-bot-token-xyz"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DONDOC_"):
            monkeypatch.delenv(name)


def problems_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return caught.value.problems


def test_defaults_put_a_sqlite_file_in_the_data_directory_of_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == Path("data")
    assert settings.db_url == f"sqlite:///{tmp_path / 'data' / 'dondoc.db'}"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.smtp.host is None
    assert settings.telegram.token is None


def test_variables_with_the_prefix_and_double_underscores_reach_nested_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "DONDOC_DATA_DIR": str(tmp_path / "store"),
        "DONDOC_DATABASE_URL": "postgresql://dondoc@db.internal/dondoc",
        "DONDOC_TIMEZONE": "Asia/Bangkok",
        "DONDOC_SMTP__HOST": "mail.tinhmau.example",
        "DONDOC_SMTP__PORT": "587",
        "DONDOC_SMTP__USERNAME": "vp-ubnd",
        "DONDOC_SMTP__PASSWORD": PASSWORD,
        "DONDOC_SMTP__SECURITY": "starttls",
        "DONDOC_SMTP__SENDER": "dondoc@tinhmau.example",
        "DONDOC_TELEGRAM__TOKEN": TOKEN,
        "DONDOC_TELEGRAM__API_URL": "http://127.0.0.1:8081/",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.data_dir == tmp_path / "store"
    assert settings.db_url == "postgresql://dondoc@db.internal/dondoc"
    assert settings.tz.key == "Asia/Bangkok"
    assert (settings.smtp.host, settings.smtp.port) == ("mail.tinhmau.example", 587)
    assert (settings.smtp.username, settings.smtp.security) == ("vp-ubnd", "starttls")
    assert settings.smtp.sender == "dondoc@tinhmau.example"
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == PASSWORD
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN
    assert settings.telegram.api_url == "http://127.0.0.1:8081"


def test_a_yaml_settings_file_is_read_and_the_environment_wins_over_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "dondoc.yaml"
    settings_file.write_text(
        "timezone: Asia/Ho_Chi_Minh\n"
        "smtp:\n"
        "  host: mail.tinhmau.example\n"
        "  port: 465\n"
        "  security: tls\n"
        f"  password: {PASSWORD}\n"
        "telegram:\n"
        f"  token: '{TOKEN}'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DONDOC_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("DONDOC_SMTP__PORT", "2525")
    settings = load_settings()
    assert settings.smtp.host == "mail.tinhmau.example"
    assert settings.smtp.port == 2525
    assert settings.smtp.security == "tls"
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == PASSWORD
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DONDOC_SMTP__PORT", "hai mươi lăm", "DONDOC_SMTP__PORT: phải là một số nguyên"),
        ("DONDOC_SMTP__PORT", "70000", "DONDOC_SMTP__PORT: phải không quá 65535"),
        ("DONDOC_SMTP__SECURITY", "ssl", "DONDOC_SMTP__SECURITY: phải là một trong: 'none'"),
        ("DONDOC_SMTP__SENDER", "vp-ubnd", "DONDOC_SMTP__SENDER: phải là một địa chỉ email"),
        ("DONDOC_TIMEZONE", "Asia/Hanoi", "DONDOC_TIMEZONE: múi giờ không tồn tại"),
        ("DONDOC_TELEGRAM__API_URL", "127.0.0.1:8081", "DONDOC_TELEGRAM__API_URL: phải bắt đầu"),
        ("DONDOC_TICK_SECONDS", "0", "DONDOC_TICK_SECONDS: phải lớn hơn 0"),
        ("DONDOC_SMTP__HOTS", "mail", "DONDOC_SMTP__HOTS: cài đặt không được hỗ trợ"),
        ("DONDOC_SMTP", '{"port": 25', "DONDOC_SMTP: không phải JSON hợp lệ"),
    ],
)
def test_an_invalid_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    problems = problems_of(monkeypatch, **{name: value})
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert "\n" not in problems[0]


def test_every_invalid_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = problems_of(monkeypatch, DONDOC_SMTP__PORT="x", DONDOC_LANG="fr")
    assert sorted(p.split(":")[0] for p in problems) == ["DONDOC_LANG", "DONDOC_SMTP__PORT"]


def test_a_bad_value_in_the_settings_file_is_named_by_file_line_and_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "dondoc.yaml"
    settings_file.write_text("smtp:\n  host: mail\n  security: ssl\n", encoding="utf-8")
    problems = problems_of(monkeypatch, DONDOC_SETTINGS_FILE=str(settings_file))
    assert problems == [
        f"{settings_file}:3:3: smtp.security: phải là một trong: 'none', 'starttls' or 'tls' "
        "(must be one of these)"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("smtp:\n  host: [mail\n", ":3:1: YAML không hợp lệ"),
        ("- smtp\n", ":1:1: tệp cài đặt phải gồm các dòng 'khóa: giá trị'"),
        ("smtp:\n  host: a\nsmtp:\n  host: b\n", ":3:1: khóa 'smtp' bị lặp lại"),
    ],
)
def test_a_malformed_settings_file_is_reported_with_its_position(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, expected: str
) -> None:
    settings_file = tmp_path / "dondoc.yaml"
    settings_file.write_text(content, encoding="utf-8")
    problems = problems_of(monkeypatch, DONDOC_SETTINGS_FILE=str(settings_file))
    assert len(problems) == 1
    assert problems[0].startswith(str(settings_file) + expected)


def test_a_missing_settings_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    problems = problems_of(monkeypatch, DONDOC_SETTINGS_FILE=str(tmp_path / "nowhere.yaml"))
    assert problems == [f"DONDOC_SETTINGS_FILE: không tìm thấy tệp {tmp_path / 'nowhere.yaml'}"]


def test_secrets_do_not_appear_in_the_settings_representation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DONDOC_SMTP__PASSWORD", PASSWORD)
    monkeypatch.setenv("DONDOC_TELEGRAM__TOKEN", TOKEN)
    settings = load_settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in text
        assert TOKEN not in text


def test_a_secret_in_an_invalid_group_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = problems_of(monkeypatch, DONDOC_SMTP=f'{{"port": "x", "password": "{PASSWORD}"}}')
    assert problems == ["DONDOC_SMTP (port): phải là một số nguyên (must be an integer)"]


def test_the_cli_reports_an_invalid_variable_on_one_line_with_exit_code_2(cli: Cli) -> None:
    cli.env["DONDOC_SMTP__PORT"] = "abc"
    result = cli("init")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Lỗi: DONDOC_SMTP__PORT: phải là một số nguyên (must be an integer)"
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_password_or_token_never_appears_in_any_cli_output(cli: Cli, tmp_path: Path) -> None:
    cli.env.update(
        {
            "DONDOC_SMTP__PASSWORD": PASSWORD,
            "DONDOC_TELEGRAM__TOKEN": TOKEN,
            "DONDOC_SMTP__HOST": "127.0.0.1",
        }
    )
    outputs = [cli("init"), cli("tasks", "--json")]
    cli.env["DONDOC_SMTP__SECURITY"] = "ssl"  # a failure next to the secrets
    outputs.append(cli("tasks"))
    cli.env.pop("DONDOC_SMTP__SECURITY")
    cli.env["DONDOC_DATABASE_URL"] = f"postgresql://dondoc:{PASSWORD}@/nowhere?host=/nonexistent"
    outputs.append(cli("tasks"))
    cli.env["DONDOC_DATABASE_URL"] = f"not a url {PASSWORD}"
    outputs.append(cli("tasks"))
    assert [r.exit_code for r in outputs] == [0, 0, 2, 2, 2]
    for result in outputs:
        assert PASSWORD not in result.stdout + result.stderr
        assert TOKEN not in result.stdout + result.stderr


def test_public_url_must_be_an_http_address_and_loses_its_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DONDOC_PUBLIC_URL", "https://dondoc.tinhmau.test/")
    settings = load_settings()
    assert settings.public_url == "https://dondoc.tinhmau.test"
    assert settings.secure_cookies
    problems = problems_of(monkeypatch, DONDOC_PUBLIC_URL="dondoc.tinhmau.test")
    assert problems == [
        "DONDOC_PUBLIC_URL: phải bắt đầu bằng http:// hoặc https:// (must be an http(s) URL)"
    ]


def test_a_short_secret_key_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = problems_of(monkeypatch, DONDOC_SECRET_KEY="short-Bí-Mật")
    assert problems == [
        "DONDOC_SECRET_KEY: phải dài ít nhất 32 ký tự (must be at least 32 characters)"
    ]
    assert "Bí-Mật" not in repr(problems)


def test_init_generates_a_private_secret_key_once_and_never_prints_it(cli: Cli) -> None:
    first = cli("init")
    assert first.exit_code == 0, first.stderr
    key_file = cli.cwd / "data" / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert key_file.stat().st_mode & 0o077 == 0
    assert "secret_key" in first.stdout and key not in first.stdout + first.stderr
    second = cli("init")
    assert second.exit_code == 0, second.stderr
    assert key_file.read_text().strip() == key
    assert "secret_key" not in second.stdout


def test_a_secret_key_from_the_environment_is_used_and_no_file_is_written(cli: Cli) -> None:
    cli.env["DONDOC_SECRET_KEY"] = "k" * 40
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert not (cli.cwd / "data" / "secret_key").exists()


def test_a_login_without_encryption_is_refused_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "DONDOC_SMTP__HOST": "mail.tinhmau.example",
        "DONDOC_SMTP__USERNAME": "vp-ubnd",
        "DONDOC_SMTP__PASSWORD": PASSWORD,
    }
    (problem,) = problems_of(monkeypatch, **env)
    assert problem.startswith("DONDOC_SMTP")
    assert "DONDOC_SMTP__SECURITY=starttls" in problem
    assert "DONDOC_SMTP__ALLOW_INSECURE_AUTH" in problem
    assert PASSWORD not in problem
    monkeypatch.setenv("DONDOC_SMTP__ALLOW_INSECURE_AUTH", "true")
    assert load_settings().smtp.allow_insecure_auth  # the operator's explicit choice


def test_a_misspelt_variable_is_warned_about_naming_the_closest_one(cli: Cli) -> None:
    cli.env.update({"DONDOC_DATABSE_URL": "sqlite:///x.db", "DONDOC_NOT_A_THING": "1"})
    result = cli("plans")
    assert "DONDOC_DATABSE_URL" in result.stderr
    assert "DONDOC_DATABASE_URL?" in result.stderr
    assert "DONDOC_NOT_A_THING" in result.stderr
    assert "sqlite:///x.db" not in result.stderr  # values may be secrets: never shown
