"""Read config/rules.yaml: validate it and check what it refers to, or say where it is wrong.

Every problem is one line `FILE:LINE:COL: field: message`, Vietnamese first with the
English in brackets, and lists the allowed values when there is a list. All problems
of a file are reported at once, so an admin fixes them in one pass.
"""

from __future__ import annotations

import types
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, RootModel, ValidationError

from config.errors import ConfigError, clip, plain_message
from config.yaml_source import Loc, Located, load_located
from rules.policy import DEADLINE_KINDS, RECIPIENT_WORDS, RuleConfig

_Problem = tuple[int, int, str]

_TYPE_MESSAGES = {
    "bool_parsing": "phải là true hoặc false (must be true or false)",
    "bool_type": "phải là true hoặc false (must be true or false)",
    "int_parsing": "phải là một số nguyên (must be a whole number)",
    "int_type": "phải là một số nguyên (must be a whole number)",
    "int_from_float": "phải là một số nguyên (must be a whole number)",
    "string_type": "phải là một chuỗi chữ (must be text)",
    "list_type": "phải là một danh sách (must be a list)",
    "tuple_type": "phải là một danh sách (must be a list)",
    "dict_type": "phải là một bảng khóa: giá trị (must be a mapping)",
    "model_type": "phải là một bảng khóa: giá trị (must be a mapping)",
    "model_attributes_type": "phải là một bảng khóa: giá trị (must be a mapping)",
    "date_parsing": "phải là một ngày dạng YYYY-MM-DD (must be a date)",
    "date_from_datetime_parsing": "phải là một ngày dạng YYYY-MM-DD (must be a date)",
    "date_from_datetime_inexact": "phải là một ngày, không kèm giờ (must be a date)",
    "date_type": "phải là một ngày dạng YYYY-MM-DD (must be a date)",
    "missing": "thiếu trường bắt buộc (required field missing)",
}


def load_rule_config(
    path: Path,
    *,
    agencies: Collection[str] | None = None,
    templates: Collection[str] | None = None,
) -> RuleConfig:
    """Load and check a rule config; raises ConfigError listing every problem found.

    `agencies` are the codes a stage may name and `templates` the message templates that
    exist; None skips that check (the caller says so to the user).
    """
    source = load_located(path)
    if not isinstance(source.data, dict):
        raise ConfigError(
            [f"{source.where(())}: tệp quy tắc phải là một bảng khóa: giá trị (must be a mapping)"]
        )
    try:
        config = RuleConfig.model_validate(source.data)
    except ValidationError as exc:
        raise ConfigError(_sorted(_describe(source, exc))) from None
    problems = list(_references(config, source, agencies=agencies, templates=templates))
    if problems:
        raise ConfigError(_sorted(problems))
    return config


def _sorted(problems: list[_Problem]) -> list[str]:
    return [text for _, _, text in sorted(problems)]


def _problem(source: Located, loc: Loc, message: str) -> _Problem:
    where = source.where(loc)
    line, col = (int(n) for n in where.rsplit(":", 2)[1:])
    field = ".".join(str(part) for part in loc) or "(gốc)"
    return line, col, f"{where}: {field}: {message}"


# --- Validation errors ------------------------------------------------------------------


def _describe(source: Located, error: ValidationError) -> list[_Problem]:
    problems = []
    for item in error.errors():
        raw_loc = tuple(item["loc"])
        is_key = bool(raw_loc) and raw_loc[-1] == "[key]"
        loc = tuple(part for part in raw_loc if not _is_union_tag(part))
        problems.append(_problem(source, loc, _message(item, loc, is_key)))
    return problems


def _message(item: Any, loc: Loc, is_key: bool) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        listed = f"; các khóa hợp lệ (allowed): {', '.join(allowed)}" if allowed else ""
        return f"khóa '{loc[-1]}' không được hỗ trợ (unknown key){listed}"
    if kind == "literal_error":
        expected = str(item.get("ctx", {}).get("expected", "")).replace("'", "")
        expected = expected.replace(" or ", ", ")
        what = "khóa" if is_key else "giá trị"
        return f"{what} {clip(item['input'])} không hợp lệ; cho phép (allowed values): {expected}"
    if kind in ("value_error", "assertion_error"):
        return plain_message(item["msg"])
    if kind == "too_short":
        return "không được để trống (must not be empty)"
    if kind in ("greater_than_equal", "greater_than"):
        return f"phải ≥ {item['ctx'].get('ge', item['ctx'].get('gt'))} (too small)"
    if kind in ("less_than_equal", "less_than"):
        return f"phải ≤ {item['ctx'].get('le', item['ctx'].get('lt'))} (too large)"
    message = _TYPE_MESSAGES.get(kind)
    if message is None:
        return str(item["msg"])
    return message if kind == "missing" else f"{message}, không phải {clip(item['input'])}"


def _is_union_tag(part: int | str) -> bool:
    # pydantic adds validator and union member names to locations; the user never wrote them.
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (models or members)[0]
        elif isinstance(annotation, type) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        else:
            return annotation


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys the model at `loc` accepts, as written in YAML."""
    current: Any = RuleConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = current.model_fields
            match = next((f for n, f in fields.items() if part in (n, f.alias)), None)
            current = match.annotation if match else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


# --- References -------------------------------------------------------------------------


def _references(
    config: RuleConfig,
    source: Located,
    *,
    agencies: Collection[str] | None,
    templates: Collection[str] | None,
) -> Iterator[_Problem]:
    known = ", ".join(config.policies)
    rules = config.policy_for
    for section in ("kind", "plan", "tag", "task"):
        mapping: dict[str, str] = {str(k): v for k, v in getattr(rules, section).items()}
        for key, name in mapping.items():
            if name not in config.policies:
                yield _problem(
                    source,
                    ("policy_for", section, key),
                    f"không có chính sách '{name}' (unknown policy); có (defined): {known}",
                )
    kinds = {str(k): v for k, v in rules.kind.items()}
    for kind in DEADLINE_KINDS:
        chosen = kinds.get(kind)
        if chosen is None:
            yield _problem(
                source,
                ("policy_for", "kind"),
                f"thiếu chính sách cho loại thời hạn '{kind}' (no policy for this deadline "
                f"kind); cần đủ (required): {', '.join(DEADLINE_KINDS)}",
            )
        elif chosen in config.policies and not config.policies[chosen].covers(
            None if kind == "none" else kind
        ):
            needs = (
                "bước có 'at' (a dated stage)"
                if kind in ("once", "recurring", "external")
                else "bước định kỳ có 'every' (a periodic stage)"
            )
            yield _problem(
                source,
                ("policy_for", "kind", kind),
                f"chính sách '{chosen}' không có {needs} cho loại '{kind}', nên sẽ không nhắc gì "
                "(the policy would never remind tasks of this kind)",
            )
    yield from _ack_timeout(config, source)
    for policy_name, policy in config.policies.items():
        for index, stage in enumerate(policy.stages):
            loc: Loc = ("policies", policy_name, index)
            if templates is not None and stage.template not in templates:
                yield _problem(
                    source,
                    (*loc, "template"),
                    f"không có mẫu tin '{stage.template}' (unknown template); có (available): "
                    f"{', '.join(sorted(templates))}",
                )
            yield from _recipients(source, loc, stage.to, agencies)
    yield from _recipients(source, ("reports",), config.reports.to, agencies, words=("office",))


def _ack_timeout(config: RuleConfig, source: Located) -> Iterator[_Problem]:
    # An acknowledgement silences repeats until it lapses: no longer than the repeat, it
    # would at most delay one by a few hours (as on-call tools, the timeout is longer).
    repeats = [
        (stage.repeat.every, f"{name}/{stage.name}")
        for name, policy in config.policies.items()
        for stage in policy.stages
        if stage.repeat is not None
    ]
    longest = max(repeats, default=None)
    if longest is not None and config.ack_timeout <= longest[0]:
        yield _problem(
            source,
            ("ack_timeout",),
            f"phải dài hơn khoảng lặp dài nhất ({longest[0].days}d, bước '{longest[1]}'), nếu "
            "không, xác nhận đã nhận không chặn được lần nhắc lặp nào (must be longer than "
            "every repeat interval, or an acknowledgement silences no repeat)",
        )


def _recipients(
    source: Located,
    loc: Loc,
    names: tuple[str, ...],
    agencies: Collection[str] | None,
    *,
    words: tuple[str, ...] = RECIPIENT_WORDS,
) -> Iterator[_Problem]:
    raw = _raw(source.data, (*loc, "to"))
    for position, name in enumerate(names):
        if name in words or (agencies is None and name not in RECIPIENT_WORDS):
            continue
        if agencies is not None and name in agencies:
            continue
        where = (*loc, "to", position) if isinstance(raw, list) else (*loc, "to")
        yield _problem(
            source,
            where,
            f"không có cơ quan '{name}' trong danh bạ (unknown agency); dùng "
            f"{', '.join(words)} hoặc mã một cơ quan (or an agency code)",
        )


def _raw(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
