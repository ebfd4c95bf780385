"""The one error an author sees for input the harness cannot use: a line, never a traceback."""

from __future__ import annotations


class LessonError(Exception):
    """A lesson the harness cannot use; ``str()`` is the one-line message for the author."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
