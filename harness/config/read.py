"""Reading one configuration file: TOML, checked key by key, each problem at its line."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from harness.config.errors import ConfigError
from harness.config.globs import glob_pattern
from harness.config.settings import Config, Override, Setup, Values
from harness.config.values import devices_value, memory_limit_value, shown_value, time_limit_value
from harness.config.where import key_line, key_lines

KEYS = ("setup", "devices", "time-limit", "memory-limit", "overrides")
OVERRIDE_KEYS = ("paths", "setup", "devices", "time-limit", "memory-limit")
MAX_SIZE = 1_000_000  # bytes: a configuration file larger than this is not one
T = TypeVar("T")


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
        raise ConfigError(name, 1, f"cannot be read: {error.strerror or error}") from None
    if pyproject and b"harness" not in raw:
        return None  # not ours to judge, whatever else it holds
    if len(raw) > MAX_SIZE:
        raise ConfigError(name, 1, f"larger than {MAX_SIZE} bytes: not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(name, line, f"not UTF-8 (byte {error.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _error_line(str(error), text)
        raise ConfigError(name, line, f"not valid TOML: {error}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(name, 1, "not valid TOML: nested too deeply") from None
    lines = key_lines(text)
    if pyproject:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "harness" not in tool:
            return None
        table, prefix = tool["harness"], "tool.harness"
        if not isinstance(table, dict):
            where = key_line(lines, prefix)
            raise ConfigError(
                name, where, f"[tool.harness]: expected a table, got {shown_value(table)}"
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
        return ConfigError(self.name, key_line(self.lines, key_path), f"{label}: {why}")

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
        devices = self._checked(table, "devices", dotted, where, devices_value)
        time_limit = self._checked(table, "time-limit", dotted, where, time_limit_value)
        memory_limit = self._checked(table, "memory-limit", dotted, where, memory_limit_value)
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
                key_path,
                where,
                "setup",
                f"expected Python code (a string), got {shown_value(value)}",
            )
        line, multiline = self.lines.get(key_path, (key_line(self.lines, key_path), False))
        setup = Setup(value, where, self.name, line, multiline)
        try:
            compile(value, self.name, "exec", dont_inherit=True)
        except SyntaxError as error:
            at = setup.line_of(error.lineno)
            raise ConfigError(
                self.name,
                at,
                f"{where + ' ' if where else ''}setup: expected Python code, "
                f"got a SyntaxError: {error.msg}",
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
                f"expected an array of tables ({header} with paths = [...]), "
                f"got {shown_value(value)}",
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
            raise self.fail(
                key_path + ".paths", where, "paths", f"{expected}, got {shown_value(value)}"
            )
        for pattern in value:
            if not isinstance(pattern, str) or not pattern.strip():
                raise self.fail(
                    key_path + ".paths", where, "paths", f"{expected}, got {shown_value(pattern)}"
                )
            if pattern.startswith(("/", "../")) or "/../" in pattern or os.path.isabs(pattern):
                raise self.fail(
                    key_path + ".paths",
                    where,
                    "paths",
                    f"{expected} (inside it), got {pattern[:60]!r}",
                )
            try:
                glob_pattern(pattern)
            except re.error:
                raise self.fail(
                    key_path + ".paths", where, "paths", f"{expected}, got {pattern[:60]!r}"
                ) from None
        return tuple(str(p) for p in value)
