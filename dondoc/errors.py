"""Errors that are a user's mistake, not a bug: the CLI prints them without a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment; `message` is shown as is."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(UserError, LookupError):
    """A named thing (plan, task, agency) does not exist."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"Không tìm thấy {what} '{key}'.")
        self.what = what
        self.key = key
