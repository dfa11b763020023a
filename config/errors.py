"""Configuration errors: a user's mistake, reported as one clear line per problem."""

from __future__ import annotations

# A problem line goes to logs and /healthz: a value quoted in it is cut to this length,
# and a whole line to MAX_PROBLEM (a 7 MB line once came out of an expanded alias).
MAX_QUOTED = 80
MAX_PROBLEM = 1000


def clip(value: object, limit: int = MAX_QUOTED) -> str:
    """repr(value), cut to `limit` characters with the total length said."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} ký tự / characters)"


def _clip_line(line: str) -> str:
    if len(line) <= MAX_PROBLEM:
        return line
    return f"{line[: MAX_PROBLEM - 1]}… (+{len(line) - MAX_PROBLEM + 1} ký tự / characters)"


class ConfigError(ValueError):
    """Invalid settings or rule config; `problems` are complete, located sentences."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [_clip_line(problem) for problem in problems]
        super().__init__("\n".join(self.problems))


def plain_message(pydantic_msg: object) -> str:
    """A pydantic error message without the prefix it adds to our validators' sentences."""
    return str(pydantic_msg).removeprefix("Value error, ").removeprefix("Assertion failed, ")
