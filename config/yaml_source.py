"""YAML that remembers where each value came from, so errors can say FILE:LINE:COL.

PyYAML's composer already records a mark on every node; we construct plain Python data
and keep a map from each value's path (("policies", "default", 0, "at")) to its mark.

Reading is bounded, because a config is reloaded live by a daemon holding secrets: a
file over MAX_BYTES, nesting deeper than MAX_DEPTH, more than MAX_ALIASES alias
expansions (the "billion laughs") or more than MAX_NODES values in all are refused with
the place where the limit was crossed, before any memory or time is spent on them. The
merge key (`<<: *defaults`) is supported, as YAML 1.1 defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.errors import ConfigError, clip, plain_message

Loc = tuple[int | str, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 200
MAX_NODES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


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


def _refuse(mark: yaml.Mark, message: str) -> ConfigError:
    return ConfigError([f"{{file}}:{mark.line + 1}:{mark.column + 1}: {message}"])


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer, refusing deep nesting and marking where each alias is used.

    The composer recurses once per level, so depth is checked before it does; an alias
    becomes a copy of its anchored node carrying the alias's own position, which is how
    the expansion count below can name the line that asked for it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            anchored = super().compose_node(parent, index)
            if anchored is None:
                return None
            alias = _copy_node(anchored, event.start_mark, event.end_mark)
            alias.is_alias = True  # type: ignore[attr-defined]
            return alias
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _refuse(
                    self.peek_event().start_mark,
                    f"lồng nhau quá {MAX_DEPTH} cấp (nesting deeper than {MAX_DEPTH} levels)",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _copy_node(node: yaml.Node, start: yaml.Mark, end: yaml.Mark) -> yaml.Node:
    if isinstance(node, yaml.ScalarNode):
        return yaml.ScalarNode(node.tag, node.value, start, end, node.style)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(node.tag, node.value, start, end, node.flow_style)
    if isinstance(node, yaml.MappingNode):
        return yaml.MappingNode(node.tag, node.value, start, end, node.flow_style)
    raise TypeError(f"unexpected YAML node {node!r}")


class _Builder:
    """Plain data from a composed document, within the alias, node and depth budgets."""

    def __init__(self, positions: dict[Loc, tuple[int, int]]) -> None:
        self.positions = positions
        self.aliases = 0
        self.nodes = 0

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.nodes += 1
        if getattr(node, "is_alias", False):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _refuse(
                    node.start_mark,
                    f"quá nhiều lần mở rộng bí danh (more than {MAX_ALIASES} alias expansions; "
                    "a 'billion laughs' file is refused)",
                )
        if self.nodes > MAX_NODES:
            raise _refuse(
                node.start_mark, f"tệp có quá {MAX_NODES} giá trị (more than {MAX_NODES} values)"
            )
        if len(loc) > MAX_DEPTH:
            raise _refuse(
                node.start_mark,
                f"lồng nhau quá {MAX_DEPTH} cấp (nesting deeper than {MAX_DEPTH} levels)",
            )
        self.positions.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _refuse(
                    key_node.start_mark, "khóa phải là một tên đơn giản (keys must be plain names)"
                )
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = _scalar(key_node)
            child = (*loc, key)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                raise _refuse(key_node.start_mark, f"khóa {clip(key)} bị lặp lại (duplicate key)")
            self.positions[child] = position
            result[key] = self.build(value_node, child)
        for merge in merges:
            self._merge(result, merge, loc)
        return result

    def _merge(self, result: dict[Any, Any], merge: yaml.Node, loc: Loc) -> None:
        """`<<: *a` or `<<: [*a, *b]`: keys written here win, then the earlier mappings."""
        sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise _refuse(
                    source.start_mark,
                    "khóa gộp '<<' cần một bảng hoặc danh sách bảng, ví dụ <<: *mac_dinh "
                    "(the merge key takes a mapping or a list of mappings)",
                )
            scratch: dict[Loc, tuple[int, int]] = {}
            builder_positions, self.positions = self.positions, scratch
            try:
                merged = self.build(source, loc)
            finally:
                self.positions = builder_positions
            for key, value in merged.items():
                if key not in result:
                    result[key] = value
                    for where, position in scratch.items():
                        if where[: len(loc) + 1] == (*loc, key):
                            self.positions.setdefault(where, position)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        # e.g. 2022-13-45 looks like a date to YAML and fails to become one.
        raise _refuse(node.start_mark, f"giá trị {clip(node.value)} không hợp lệ: {exc}") from None
    finally:
        loader.dispose()


def load_located(path: Path | str, text: str | None = None) -> Located:
    """Parse a YAML file; a syntax error becomes a ConfigError with its position."""
    name = str(path)
    if text is None:
        try:
            size = Path(path).stat().st_size
            if size > MAX_BYTES:
                raise ConfigError([_too_big(name, size)])
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError([f"{name}: không tìm thấy tệp (file not found)"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{name}: không đọc được tệp: {exc}"]) from None
    elif len(text.encode("utf-8")) > MAX_BYTES:
        raise ConfigError([_too_big(name, len(text.encode("utf-8")))])
    positions: dict[Loc, tuple[int, int]] = {}
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = {} if node is None else _Builder(positions).build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError([f"{where}: YAML không hợp lệ: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{name}:1:1: YAML không hợp lệ: {clip(str(exc))}"]) from None
    except ConfigError as exc:
        raise ConfigError([p.replace("{file}", name) for p in exc.problems]) from None
    finally:
        loader.dispose()
    return Located(file=name, data=data, positions=positions)


def _too_big(name: str, size: int) -> str:
    return (
        f"{name}:1:1: tệp quá lớn ({size // 1024} KB; tối đa {MAX_BYTES // 1024} KB) "
        f"(file larger than {MAX_BYTES // 1024} KB)"
    )


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
