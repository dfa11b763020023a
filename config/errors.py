"""Configuration errors: a user's mistake, reported as one clear line per problem."""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid settings or rule config; `problems` are complete, located sentences."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def plain_message(pydantic_msg: object) -> str:
    """A pydantic error message without the prefix it adds to our validators' sentences."""
    return str(pydantic_msg).removeprefix("Value error, ").removeprefix("Assertion failed, ")
