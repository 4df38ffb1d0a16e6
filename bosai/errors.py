"""Errors that reach the user as one clear line (and a non-zero exit code on the CLI)."""

from __future__ import annotations


class BosaiError(Exception):
    """An expected failure with a message meant for people. ``exit_code`` is used by the CLI."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InvalidInputError(BosaiError):
    """Bad input data (exit code 2). ``problems`` holds ``FILE:ROW:COLUMN: reason`` lines."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


class DatabaseNotReadyError(BosaiError):
    """The database is unreachable or its schema is not at the expected revision."""
