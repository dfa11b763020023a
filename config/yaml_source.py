"""YAML that remembers where each value came from, so errors can say FILE:LINE:COL.

PyYAML's composer already records a mark on every node; we construct plain Python data
and keep a map from each value's path (("policies", "default", 0, "at")) to its mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.errors import ConfigError, plain_message

Loc = tuple[int | str, ...]


@dataclass(frozen=True)
class Located:
    """Parsed YAML plus the position of every key and value in it."""

    file: str
    data: Any
    positions: dict[Loc, tuple[int, int]]

    def where(self, loc: Loc) -> str:
        """'FILE:LINE:COL' of the deepest known part of `loc` (1-based)."""
        for depth in range(len(loc), -1, -1):
            position = self.positions.get(tuple(loc[:depth]))
            if position is not None:
                return f"{self.file}:{position[0]}:{position[1]}"
        return f"{self.file}:1:1"


def _construct(node: yaml.Node, loc: Loc, positions: dict[Loc, tuple[int, int]]) -> Any:
    positions.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                raise ConfigError(
                    [
                        f"{{file}}:{mark.line + 1}:{mark.column + 1}: "
                        "khóa phải là một tên đơn giản (keys must be plain names)"
                    ]
                )
            key = _scalar(key_node)
            child = (*loc, key)
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                raise ConfigError(
                    [
                        f"{{file}}:{positions[child][0]}:{positions[child][1]}: "
                        f"khóa '{key}' bị lặp lại (duplicate key)"
                    ]
                )
            result[key] = _construct(value_node, child, positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), positions) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load_located(path: Path | str, text: str | None = None) -> Located:
    """Parse a YAML file; a syntax error becomes a ConfigError with its position."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError([f"{name}: không tìm thấy tệp (file not found)"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{name}: không đọc được tệp: {exc}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError([f"{where}: YAML không hợp lệ: {exc.problem or exc}"]) from None
    positions: dict[Loc, tuple[int, int]] = {}
    try:
        data = {} if node is None else _construct(node, (), positions)
    except ConfigError as exc:
        raise ConfigError([p.replace("{file}", name) for p in exc.problems]) from None
    return Located(file=name, data=data, positions=positions)


def describe_validation_error(source: Located, error: ValidationError) -> list[str]:
    """One 'FILE:LINE:COL: field: message' line per pydantic error, allowed values included."""
    lines = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not _is_union_tag(part))
        field = ".".join(str(part) for part in loc) or "(gốc)"
        message = plain_message(item["msg"])
        if item["type"] == "extra_forbidden":
            message = "khóa không được hỗ trợ (unknown key)"
        elif item["type"] == "missing":
            message = "thiếu trường bắt buộc (required field missing)"
        lines.append(f"{source.where(loc)}: {field}: {message}")
    return lines


def _is_union_tag(part: int | str) -> bool:
    # pydantic puts the union member's type name into the location; the user never wrote it.
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)
