"""Process settings: environment (`DONDOC_…`, nested with `__`) over an optional YAML file.

Validated once, at the edge (the CLI), and passed down; nothing here runs at import time.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from config.errors import ConfigError, plain_message
from config.yaml_source import Located, load_located

ENV_PREFIX = "DONDOC_"
SETTINGS_FILE_ENV = "DONDOC_SETTINGS_FILE"
BUNDLED_RULES = Path(__file__).with_name("rules.yaml")
# Where `dondoc init` keeps the generated key that signs cookies and links (item 5 of
# issue 12) when DONDOC_SECRET_KEY is not set.
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


class SmtpSettings(BaseModel):
    model_config = {"extra": "forbid"}

    host: str | None = None
    port: int = Field(default=25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "tls"] = "none"
    # Sending a password over a plain connection must be the operator's explicit choice.
    allow_insecure_auth: bool = False
    sender: str = "dondoc@localhost"
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpSettings:
        if self.username and self.security == "none" and not self.allow_insecure_auth:
            raise ValueError(
                "đăng nhập máy chủ thư (DONDOC_SMTP__USERNAME) sẽ gửi mật khẩu không mã hóa: "
                "đặt DONDOC_SMTP__SECURITY=starttls (cổng 587) hoặc tls (cổng 465); chỉ khi "
                "thật sự cần, đặt DONDOC_SMTP__ALLOW_INSECURE_AUTH=true (a login over an "
                "unencrypted connection would send the password in clear)"
            )
        return self

    @field_validator("sender")
    @classmethod
    def _sender_is_an_address(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("phải là một địa chỉ email (must be an email address)")
        return value


class TelegramSettings(BaseModel):
    model_config = {"extra": "forbid"}

    token: SecretStr | None = None
    # A deployment may run its own Bot API server; tests point this at a local fake.
    api_url: str | None = None
    bot_username: str | None = None

    @field_validator("api_url")
    @classmethod
    def _api_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("phải bắt đầu bằng http:// hoặc https:// (must be an http(s) URL)")
        return value.rstrip("/") if value else value


class ZaloSettings(BaseModel):
    """The Zalo Bot Platform bot (notifiers/zalo.py); off while `token` is unset."""

    model_config = {"extra": "forbid"}

    token: SecretStr | None = None
    # Tests point this at tests/fakes/zalo_api.py; None is the platform's own address.
    api_url: str | None = None
    # Webhook mode only (X-Bot-Api-Secret-Token); the platform wants 8 to 256 characters.
    webhook_secret: SecretStr | None = None
    # The platform publishes no send rate; this is our own budget (see notifiers/zalo.py).
    max_per_second: float = Field(default=5.0, gt=0, le=100)

    @field_validator("api_url")
    @classmethod
    def _api_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("phải bắt đầu bằng http:// hoặc https:// (must be an http(s) URL)")
        return value.rstrip("/") if value else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 8 <= len(value.get_secret_value()) <= 256:
            raise ValueError("phải dài từ 8 đến 256 ký tự (must be 8 to 256 characters)")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    lang: Literal["vi", "en"] = "vi"
    rules_file: Path | None = None
    templates_dir: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8765, ge=0, le=65535)
    tick_seconds: float = Field(default=60.0, gt=0)
    # On SIGTERM, how long in-flight sends may take to finish before they are stopped.
    shutdown_grace: float = Field(default=20.0, ge=0)
    # Seconds a daemon's claim on outbox rows lasts: rows of a daemon that died come back
    # to the others after it. Longer than a batch takes at the channel's own rate.
    delivery_lease: float = Field(default=300.0, ge=5, le=86400)
    # Days sent messages keep their content: long enough for the yearly report.
    retention: int = Field(default=400, ge=1)
    # The address people reach the web app at; links in emails use it. Without it emails
    # carry no links (a link to 127.0.0.1 would reach nobody).
    public_url: str | None = None
    secret_key: SecretStr | None = None
    smtp: SmtpSettings = SmtpSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"múi giờ không tồn tại (unknown time zone): {value!r}") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("phải bắt đầu bằng http:// hoặc https:// (must be an http(s) URL)")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"phải dài ít nhất {MIN_SECRET_KEY_LENGTH} ký tự "
                f"(must be at least {MIN_SECRET_KEY_LENGTH} characters)"
            )
        return value

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))

    @property
    def secret_key_path(self) -> Path:
        return self.data_dir / SECRET_KEY_FILE

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dondoc.db').resolve()}"

    @property
    def rules_path(self) -> Path:
        return self.rules_file or BUNDLED_RULES

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = os.environ.get(SETTINGS_FILE_ENV)
        if settings_file:
            sources.append(
                YamlConfigSettingsSource(
                    settings_cls, yaml_file=settings_file, yaml_file_encoding="utf-8-sig"
                )
            )
        return tuple(sources)


# Pydantic's English messages for the mistakes admins make most, said in Vietnamese first.
_MESSAGES = {
    "int_parsing": "phải là một số nguyên (must be an integer)",
    "int_from_float": "phải là một số nguyên (must be an integer)",
    "float_parsing": "phải là một số (must be a number)",
    "bool_parsing": "phải là true hoặc false (must be true or false)",
    "greater_than": "phải lớn hơn {gt} (must be greater than {gt})",
    "greater_than_equal": "phải từ {ge} trở lên (must be at least {ge})",
    "less_than_equal": "phải không quá {le} (must be at most {le})",
    "literal_error": "phải là một trong: {expected} (must be one of these)",
    "extra_forbidden": "cài đặt không được hỗ trợ (unknown setting)",
    "model_type": "phải là một nhóm cài đặt (must be a mapping)",
    "string_type": "phải là một chuỗi (must be a string)",
}


def _variable_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def _message(error: Any) -> str:
    template = _MESSAGES.get(error["type"])
    if template is None:
        message = str(error["msg"])
        return plain_message(message)
    return template.format(**error.get("ctx", {}))


def _where(loc: tuple[int | str, ...], located: Located | None) -> str:
    """The environment variable that set `loc`, else its place in the settings file."""
    names = {name.upper() for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = _variable_name(loc[:depth])
        if name in names:
            inner = ".".join(str(part) for part in loc[depth:])
            return f"{name} ({inner})" if inner else name
    if located is not None and loc:
        return f"{located.where(loc)}: {'.'.join(str(part) for part in loc)}"
    return _variable_name(loc) if loc else ENV_PREFIX


# DONDOC_ variables read outside Settings: the settings file, Docker, the demo, the tests.
OTHER_VARIABLES = (
    SETTINGS_FILE_ENV,
    "DONDOC_AGENCIES_FILE",  # the Docker image's entry point
    "DONDOC_DEMO_DIR",
    "DONDOC_TEST_POSTGRES_URL",
)


def known_variables() -> list[str]:
    """Every DONDOC_ environment variable dondoc reads, nested settings included."""
    names = list(OTHER_VARIABLES)
    for name, info in Settings.model_fields.items():
        names.append(_variable_name((name,)))
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [_variable_name((name, inner)) for inner in model.model_fields]
    return names


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each DONDOC_ variable nothing reads (a misspelt name is otherwise
    silently ignored), naming the closest known one."""
    known = known_variables()
    groups = [n + "__" for n in known if any(k.startswith(n + "__") for k in known)]
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        if any(upper.startswith(group) for group in groups):
            continue  # a nested key: validation refuses unknown ones with their name
        bare = {k.removeprefix(ENV_PREFIX): k for k in known}
        close = difflib.get_close_matches(upper.removeprefix(ENV_PREFIX), bare, n=1, cutoff=0.7)
        hint = f"; có phải {bare[close[0]]}? (did you mean it?)" if close else ""
        warnings.append(
            f"{name}: dondoc không dùng biến môi trường này, giá trị bị bỏ qua "
            f"(unknown variable, ignored){hint}"
        )
    return warnings


def _read_settings_file(path: str) -> Located:
    located = load_located(path)
    if not isinstance(located.data, dict):
        raise ConfigError(
            [f"{path}:1:1: tệp cài đặt phải gồm các dòng 'khóa: giá trị' (must be a mapping)"]
        )
    return located


def load_settings(**overrides: Any) -> Settings:
    """Build settings or raise ConfigError naming each bad variable (never its value)."""
    settings_file = os.environ.get(SETTINGS_FILE_ENV)
    located = None
    if settings_file:
        if not Path(settings_file).is_file():
            raise ConfigError([f"{SETTINGS_FILE_ENV}: không tìm thấy tệp {settings_file}"])
        located = _read_settings_file(settings_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(
            [f"{_where(error['loc'], located)}: {_message(error)}" for error in exc.errors()]
        ) from None
    except SettingsError as exc:
        # The message names the field, never the value: 'error parsing value for field "smtp"'.
        match = re.search(r'field "([^"]+)"', str(exc))
        name = _variable_name((match.group(1),)) if match else ENV_PREFIX + "*"
        raise ConfigError([f"{name}: không phải JSON hợp lệ (invalid JSON value)"]) from None


def ensure_secret_key(settings: Settings) -> bool:
    """Generate the signing key into the data dir unless one is set; True when made now.

    The file is created readable by its owner only, and its content is never printed.
    """
    if settings.secret_key is not None or settings.secret_key_path.exists():
        return False
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.secret_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return True


def secret_key(settings: Settings) -> str:
    """The key that signs cookies and links: DONDOC_SECRET_KEY, else the generated file."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.secret_key_path
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(
            [
                f"DONDOC_SECRET_KEY: chưa đặt và không đọc được {path}; "
                "hãy chạy `dondoc init` (not set and no generated key: run `dondoc init`)"
            ]
        ) from None
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError([f"{path}: khóa quá ngắn (the key file is too short)"])
    return value
