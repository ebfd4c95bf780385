"""The project configuration: ``[tool.harness]`` in ``pyproject.toml``, or ``harness.toml``.

A lesson repository says once what its lessons need, instead of in every lesson::

    [tool.harness]
    setup = "import torch"      # run before the lesson's blocks, never shown; no claims
    devices = "cpu"             # or ["cpu", "cuda"]; as --devices
    time-limit = 60             # seconds per block; as --time-limit
    memory-limit = 4000         # MB per worker; as --memory-limit

    [[tool.harness.overrides]]  # for some lessons only; later overrides win
    paths = ["notes/*.md"]      # globs relative to this file's folder
    setup = "import torch\\nimport torch.nn as nn"

``harness.toml`` holds the same keys at its top level (``[[overrides]]``). The file is found
as pytest finds its rootdir: walking up from each lesson's folder (as named, links not
resolved), the first folder holding ``harness.toml``, or a ``pyproject.toml`` with a
``[tool.harness]`` table (``harness.toml`` first when both are there); the walk stops at the
repository root (a folder holding ``.git``) or the file system's root, so a configuration
above the lesson's repository never applies to it.

Precedence: an option given on the command line > a matching override > the file's table >
harness's defaults. A configuration that cannot be used is one line, ``PATH:LINE: [tool.harness]
KEY: expected ..., got ...`` (``ConfigError``), and its lessons are unusable input.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

NAMES = ("harness.toml", "pyproject.toml")  # looked for in this order, in each folder
KEYS = ("setup", "devices", "time-limit", "memory-limit", "overrides")
OVERRIDE_KEYS = ("paths", "setup", "devices", "time-limit", "memory-limit")
MAX_SIZE = 1_000_000  # bytes: a configuration file larger than this is not one
T = TypeVar("T")


class ConfigError(Exception):
    """A configuration that cannot be used: one line, ``path:LINE: what``."""


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
        return any(_glob(pattern).fullmatch(relative) for pattern in self.patterns)


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
            self._read[path] = read_config(path)
        return self._read[path]


def settings_for(lesson_path: str | os.PathLike[str]) -> Settings:
    """The settings of one lesson (``Finder().settings``)."""
    return Finder().settings(lesson_path)


def _is_repository_root(folder: Path) -> bool:
    return (folder / ".git").exists()


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies inside it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except (OSError, ValueError):
        return str(path)
    return str(path) if relative.startswith("..") else relative


def read_config(path: Path) -> Config | None:
    """The configuration in ``path``; None when it is a ``pyproject.toml`` without a
    ``[tool.harness]`` table; ``ConfigError`` when it cannot be used."""
    name = shown(path)
    pyproject = path.name == "pyproject.toml"
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SIZE + 1)
    except OSError as error:
        raise ConfigError(f"{name}:1: cannot be read: {error.strerror or error}") from None
    if pyproject and b"harness" not in raw:
        return None  # not ours to judge, whatever else it holds
    if len(raw) > MAX_SIZE:
        raise ConfigError(f"{name}:1: larger than {MAX_SIZE} bytes: not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{name}:{line}: not UTF-8 (byte {error.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _error_line(str(error), text)
        raise ConfigError(f"{name}:{line}: not valid TOML: {error}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{name}:1: not valid TOML: nested too deeply") from None
    lines = key_lines(text)
    if pyproject:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "harness" not in tool:
            return None
        table, prefix = tool["harness"], "tool.harness"
        if not isinstance(table, dict):
            where = _line(lines, prefix)
            raise ConfigError(
                f"{name}:{where}: [tool.harness]: expected a table, got {_got(table)}"
            )
    else:
        table, prefix = data, ""
    reader = _Reader(name, lines, prefix)
    base = reader.values(table, KEYS, prefix, f"[{prefix}]" if prefix else "")
    overrides = reader.overrides(table.get("overrides"))
    return Config(Path(os.path.abspath(path)), name, base, overrides)


def _error_line(message: str, text: str) -> int:
    found = re.search(r"at line (\d+)", message)
    if found:
        return int(found.group(1))
    return max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)  # end of document


class _Reader:
    """Validates tables, naming each problem at its line."""

    def __init__(self, name: str, lines: Mapping[str, tuple[int, bool]], prefix: str) -> None:
        self.name = name
        self.lines = lines
        self.prefix = prefix

    def fail(self, key_path: str, where: str, key: str, why: str) -> ConfigError:
        label = f"{where} {key}" if where else key
        return ConfigError(f"{self.name}:{_line(self.lines, key_path)}: {label}: {why}")

    def values(
        self, table: dict[str, object], known: tuple[str, ...], path: str, where: str
    ) -> Values:
        dotted = f"{path}." if path else ""
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    dotted + key,
                    where,
                    repr(key)[:60],
                    f"unknown key: {hint}(known: {', '.join(known)})",
                )
        setup = None
        if "setup" in table:
            setup = self._setup(table["setup"], dotted + "setup", where)
        devices = self._checked(table, "devices", dotted, where, _devices)
        time_limit = self._checked(table, "time-limit", dotted, where, _time_limit)
        memory_limit = self._checked(table, "memory-limit", dotted, where, _memory_limit)
        return Values(setup, devices, time_limit, memory_limit)

    def _checked(
        self,
        table: dict[str, object],
        key: str,
        dotted: str,
        where: str,
        parse: Callable[[object], T],
    ) -> T | None:
        if key not in table:
            return None
        try:
            return parse(table[key])
        except ValueError as error:
            raise self.fail(dotted + key, where, key, str(error)) from None

    def _setup(self, value: object, key_path: str, where: str) -> Setup:
        if not isinstance(value, str):
            raise self.fail(
                key_path, where, "setup", f"expected Python code (a string), got {_got(value)}"
            )
        line, multiline = self.lines.get(key_path, (_line(self.lines, key_path), False))
        setup = Setup(value, where, self.name, line, multiline)
        try:
            compile(value, self.name, "exec", dont_inherit=True)
        except SyntaxError as error:
            at = setup.line_of(error.lineno)
            raise ConfigError(
                f"{self.name}:{at}: {where + ' ' if where else ''}setup: expected Python code, "
                f"got a SyntaxError: {error.msg}"
            ) from None
        except (ValueError, RecursionError, MemoryError) as error:
            raise self.fail(
                key_path, where, "setup", f"expected Python code, got {type(error).__name__}"
            ) from None
        return setup

    def overrides(self, value: object) -> tuple[Override, ...]:
        key_path = f"{self.prefix}.overrides" if self.prefix else "overrides"
        header = f"[[{key_path}]]"
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(
                key_path,
                f"[{self.prefix}]" if self.prefix else "",
                "overrides",
                f"expected an array of tables ({header} with paths = [...]), got {_got(value)}",
            )
        found = []
        for index, table in enumerate(value):
            here = f"{key_path}[{index}]"
            where = f"{header} #{index + 1}"
            values = self.values(table, OVERRIDE_KEYS, here, where)
            found.append(Override(self._patterns(table.get("paths"), here, where), values))
        return tuple(found)

    def _patterns(self, value: object, key_path: str, where: str) -> tuple[str, ...]:
        expected = "expected a list of globs relative to the configuration's folder"
        if value is None:
            raise self.fail(
                key_path, where, "paths", f'{expected} (paths = ["notes/*.md"]), got nothing'
            )
        if not isinstance(value, list) or not value:
            raise self.fail(key_path + ".paths", where, "paths", f"{expected}, got {_got(value)}")
        for pattern in value:
            if not isinstance(pattern, str) or not pattern.strip():
                raise self.fail(
                    key_path + ".paths", where, "paths", f"{expected}, got {_got(pattern)}"
                )
            if pattern.startswith(("/", "../")) or "/../" in pattern or os.path.isabs(pattern):
                raise self.fail(
                    key_path + ".paths",
                    where,
                    "paths",
                    f"{expected} (inside it), got {pattern[:60]!r}",
                )
            try:
                _glob(pattern)
            except re.error:
                raise self.fail(
                    key_path + ".paths", where, "paths", f"{expected}, got {pattern[:60]!r}"
                ) from None
        return tuple(str(p) for p in value)


def _got(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _argument(parse: Callable[[str], T], text: str) -> T:
    """``parse`` (one of the command line's), its complaint as a ValueError ``expected ...,
    got ...``."""
    try:
        return parse(text)
    except argparse.ArgumentTypeError as error:
        message = str(error)
        if ", not " in message:
            message = message.rsplit(", not ", 1)[0]
        raise ValueError(f"{message}, got {text[:40]!r}") from None


def _devices(value: object) -> tuple[str, ...]:
    from harness.cli import DEVICES, parse_devices  # the command line's own check

    if isinstance(value, list) and all(isinstance(v, str) and "," not in v for v in value):
        text = ",".join(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(
            f"expected a comma-separated string or a list of {', '.join(DEVICES)}, "
            f"got {_got(value)}"
        )
    try:
        return tuple(parse_devices(text))
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"{error}, got {text[:40]!r}") from None


def _number(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {what} (a number), got {_got(value)}")
    return repr(value)


def _time_limit(value: object) -> float:
    from harness.cli import parse_time_limit

    return _argument(parse_time_limit, _number(value, "seconds"))


def _memory_limit(value: object) -> int:
    from harness.cli import parse_memory_limit

    if isinstance(value, float):
        raise ValueError(f"expected whole megabytes (an integer), got {_got(value)}")
    return _argument(parse_memory_limit, _number(value, "whole megabytes"))


# where keys are written ------------------------------------------------------------------

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]*?)\s*\]\]?\s*(#.*)?$")
_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"  # a bare or quoted key
_KEY = re.compile(rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=\s*(.*)")


def _dotted(text: str) -> str:
    parts = re.findall(_PART, text)
    return ".".join(part.strip("\"'") for part in parts)


def key_lines(text: str) -> dict[str, tuple[int, bool]]:
    """Where each key and table is written: dotted path (an array of tables' entries as
    ``name[INDEX]``) -> (line of its first value line, written as a multi-line string).

    A light scan, enough to name a line in messages: keys inside multi-line strings are
    skipped; what it cannot place falls back to its table's line (``_line``).
    """
    found: dict[str, tuple[int, bool]] = {}
    counts: dict[str, int] = {}
    table = ""
    closing = ""  # the delimiter of the multi-line string being skipped
    for number, row in enumerate(text.splitlines(), start=1):
        if closing:
            if closing in row.replace("\\" + closing[0], ""):
                closing = ""
            continue
        header = _HEADER.match(row)
        if header and not _KEY.match(row):
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = f"{name}[{index}]"
                found.setdefault(name, (number, False))
            else:
                table = name
            found.setdefault(table, (number, False))
            continue
        key = _KEY.match(row)
        if not key:
            continue
        path = f"{table}.{_dotted(key.group(1))}" if table else _dotted(key.group(1))
        value = key.group(2).lstrip()
        delimiter = value[:3] if value[:3] in ('"""', "'''") else ""
        rest = value[3:]
        multiline = bool(delimiter) and delimiter not in rest
        line = number + 1 if multiline and not rest.strip() else number
        found.setdefault(path, (line, multiline))
        if multiline:
            closing = delimiter
    return found


def _line(lines: Mapping[str, tuple[int, bool]], path: str) -> int:
    """The line of ``path``, else of the nearest table holding it, else 1."""
    while path:
        if path in lines:
            return lines[path][0]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return 1


# globs -------------------------------------------------------------------------------------

_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    """``pattern`` matched against a lesson's path relative to the configuration's folder:
    ``*`` and ``?`` within one folder name, ``**`` any number of folders, ``[abc]`` one of."""
    compiled = _GLOBS.get(pattern)
    if compiled is not None:
        return compiled
    text = pattern.removeprefix("./")
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and "]" in text[i + 2 :]:
            end = text.index("]", i + 2)
            body = text[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    compiled = re.compile("".join(out))
    _GLOBS[pattern] = compiled
    return compiled
