"""The project's own exception: every user-caused error ends in one of these."""

from __future__ import annotations

from os import PathLike


class DecorasError(Exception):
    """An error the user can act on; the message names the file and the problem."""

    def __init__(self, message: str, path: str | PathLike | None = None):
        self.path = None if path is None else str(path)
        text = f"{self.path}: {message}" if self.path else message
        super().__init__(text)
        self.problem = message


class Cancelled(Exception):
    """A long task stopped because the user asked it to."""
