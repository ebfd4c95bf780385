"""What a configuration says (``Config``, ``Values``, ``Setup``) and what applies to one
lesson (``Settings``, found by ``Finder`` up the lesson's folders)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness.config.globs import glob_pattern

NAMES = ("harness.toml", "pyproject.toml")  # looked for in this order, in each folder
T = TypeVar("T")


@dataclass(frozen=True)
class Setup:
    """Code run in each lesson's namespace before its first block (before each snippet's
    prelude in isolated mode). ``line``: the configuration line of its first code line;
    ``multiline``: written as a ``\"\"\"`` string, so its code lines are the file's lines."""

    code: str
    table: str  # "[tool.harness]", "[[tool.harness.overrides]] #2"; "" at harness.toml's top
    path: str  # the configuration file, as shown
    line: int
    multiline: bool = False

    def where(self, line: int) -> str:
        """``pyproject.toml:7 [tool.harness]``: a line of the setup, as messages name it."""
        return f"{self.path}:{line} {self.table}".strip()

    def line_of(self, code_line: int | None) -> int:
        """The configuration line of ``code_line`` (1-based) of the setup code."""
        if not self.multiline or code_line is None:
            return self.line
        return self.line + code_line - 1

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "table": self.table,
            "path": self.path,
            "line": self.line,
            "multiline": self.multiline,
        }

    @staticmethod
    def from_json(data: object) -> Setup | None:
        """The setup a worker request carries; None when it carries none (or nonsense)."""
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            return None
        line = data.get("line")
        return Setup(
            data["code"],
            str(data.get("table", "")),
            str(data.get("path", "")),
            line if type(line) is int else 1,
            bool(data.get("multiline")),
        )


@dataclass(frozen=True)
class Values:
    """What one table sets (None: not set there)."""

    setup: Setup | None = None
    devices: tuple[str, ...] | None = None
    time_limit: float | None = None
    memory_limit: int | None = None

    def over(self, base: Values) -> Values:
        """These values where set, ``base``'s elsewhere."""
        return Values(
            self.setup if self.setup is not None else base.setup,
            self.devices if self.devices is not None else base.devices,
            self.time_limit if self.time_limit is not None else base.time_limit,
            self.memory_limit if self.memory_limit is not None else base.memory_limit,
        )


@dataclass(frozen=True)
class Override:
    patterns: tuple[str, ...]
    values: Values

    def matches(self, relative: str) -> bool:
        return any(glob_pattern(pattern).fullmatch(relative) for pattern in self.patterns)


@dataclass(frozen=True)
class Config:
    path: Path  # absolute, links not resolved
    shown: str  # as messages and the results name it
    values: Values
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Settings:
    """What the configuration says for one lesson (None: nothing; harness's default)."""

    config: str | None = None  # the configuration file, as shown; None: none found
    setup: Setup | None = None
    devices: tuple[str, ...] | None = None
    time_limit: float | None = None
    memory_limit: int | None = None


NONE = Settings()


def default_devices() -> tuple[str, ...]:
    """The devices when neither ``--devices`` nor the configuration names them: those that
    ``HARNESS_DEVICES`` names (as ``--devices`` takes them), else every available one. A value
    ``--devices`` would refuse raises ``argparse.ArgumentTypeError`` naming the variable."""
    import argparse

    from harness.cli.arguments import parse_devices  # the command line's own check

    named = os.environ.get("HARNESS_DEVICES", "")
    if not named.strip():
        return ("all",)
    try:
        return tuple(parse_devices(named))
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"HARNESS_DEVICES={named[:40]!r}: {error}") from None


def choose(given: T | None, configured: T | None, default: T) -> T:
    """The command line's value when given, else the configuration's, else the default."""
    if given is not None:
        return given
    return configured if configured is not None else default


class Finder:
    """Finds and reads the configuration of lessons; each folder and file looked at once."""

    def __init__(self) -> None:
        self._found: dict[Path, Path | None] = {}
        self._read: dict[Path, Config | None] = {}

    def settings(self, lesson_path: str | os.PathLike[str]) -> Settings:
        """The settings for the lesson at ``lesson_path``; ``ConfigError`` when its
        configuration cannot be used."""
        lesson = Path(os.path.abspath(lesson_path))
        config = self.config_for(lesson.parent)
        if config is None:
            return NONE
        values = config.values
        relative = lesson.relative_to(config.path.parent).as_posix()
        for override in config.overrides:
            if override.matches(relative):
                values = override.values.over(values)
        setup = values.setup if values.setup is not None and values.setup.code.strip() else None
        return Settings(config.shown, setup, values.devices, values.time_limit, values.memory_limit)

    def config_for(self, folder: Path) -> Config | None:
        """The configuration that applies in ``folder`` (absolute): the nearest up the tree."""
        visited: list[Path] = []
        found: Path | None = None
        current = folder
        while True:
            if current in self._found:
                found = self._found[current]
                break
            visited.append(current)
            found = self._in_folder(current)
            if found is not None or _is_repository_root(current) or current.parent == current:
                break
            current = current.parent
        for each in visited:
            self._found[each] = found
        return None if found is None else self._config(found)

    def _in_folder(self, folder: Path) -> Path | None:
        for name in NAMES:
            candidate = folder / name
            if candidate.is_file() and self._config(candidate) is not None:
                return candidate
        return None

    def _config(self, path: Path) -> Config | None:
        if path not in self._read:
            from harness.config.read import read_config  # it builds these classes

            self._read[path] = read_config(path)
        return self._read[path]


def settings_for(lesson_path: str | os.PathLike[str]) -> Settings:
    """The settings of one lesson (``Finder().settings``)."""
    return Finder().settings(lesson_path)


def _is_repository_root(folder: Path) -> bool:
    return (folder / ".git").exists()
