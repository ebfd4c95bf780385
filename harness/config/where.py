"""Where keys are written in a TOML file: a light scan, enough to name a line in messages."""

from __future__ import annotations

import re
from collections.abc import Mapping

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
    skipped; what it cannot place falls back to its table's line (``key_line``).
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


def key_line(lines: Mapping[str, tuple[int, bool]], path: str) -> int:
    """The line of ``path``, else of the nearest table holding it, else 1."""
    while path:
        if path in lines:
            return lines[path][0]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return 1
