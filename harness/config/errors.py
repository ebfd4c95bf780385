"""The one error of a configuration that cannot be used."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration that cannot be used: ``str()`` is one line, ``path:LINE: what``."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")
