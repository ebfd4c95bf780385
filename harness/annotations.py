"""GitHub Actions annotations: failures shown on the pull request's diff, at their lines.

Under GitHub Actions (``GITHUB_ACTIONS=true``) ``harness check`` also prints one workflow
command per message it prints: ``::error file=lessons/dl.md,line=386,title=harness
[cpu]::output.shape: expected ...`` for failures and unusable input, ``::notice`` for
information lines. Escaping follows GitHub's rules for workflow commands: ``%``, ``\\r`` and
``\\n`` everywhere, and ``:`` and ``,`` too in properties. Before that, every message is one
line with its control characters shown escaped (``harness.results.one_line``: a ``\\n`` or an
ESC that lesson code raised is shown as ``\\n``, ``\\x1b``), as ``harness check`` prints it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from harness.results import LessonResult, one_line

Level = Literal["error", "warning", "notice"]

# ``path:LINE: [tag] message``; the path is everything before the first ``:LINE: `` or ``: ``
_MESSAGE = re.compile(r"(?P<path>.+?)(?::(?P<line>\d+))?: (?P<rest>.*)", re.DOTALL)
_TAG = re.compile(r"\[(?P<tag>[\w.-]+)\] (?P<message>.*)", re.DOTALL)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this run is a GitHub Actions step (GitHub sets ``GITHUB_ACTIONS=true``)."""
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: Level, message: str, path: str = "", line: int | None = None) -> str:
    """One workflow command: ``::level file=PATH,line=LINE,title=TITLE::MESSAGE``.

    ``message`` is a harness line (``path.md:LINE: [cpu] what``); its ``[tag]`` becomes the
    title. ``path`` names the file when known: the message's own prefix is then taken off
    even if the path holds ``:``. Control characters in either are shown escaped.
    """
    message, path = one_line(message), one_line(path)
    rest = message
    if path and message.startswith(f"{path}:"):
        found = re.match(r"(\d+): |\s", message[len(path) + 1 :])
        if found:
            line = int(found.group(1)) if found.group(1) else line
            rest = message[len(path) + 1 + found.end() :]
    else:
        parsed = _MESSAGE.fullmatch(message)
        if parsed:
            path = parsed.group("path")
            line = int(parsed.group("line")) if parsed.group("line") else line
            rest = parsed.group("rest")
    tag = _TAG.fullmatch(rest)
    title = f"harness [{tag.group('tag')}]" if tag else "harness"
    text = tag.group("message") if tag else rest
    properties = []
    if path:
        properties.append(f"file={escape_property(_in_workspace(path))}")
    if path and line is not None:
        properties.append(f"line={line}")
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(text)}"


def _in_workspace(path: str) -> str:
    """An absolute path under the checkout, relative to it: GitHub matches files that way."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and Path(path).is_absolute():
        try:
            return Path(path).relative_to(workspace).as_posix()
        except ValueError:
            return path
    return path


def commands(
    results: Iterable[LessonResult], problems: Sequence[str] = (), standalone: bool = False
) -> list[str]:
    """Every annotation of a check: unusable input and failures as errors, the rest notices.

    Borrowed names are errors under ``--standalone`` (they fail the check), else notices.
    """
    found = [command("error", problem) for problem in problems]
    for result in results:
        path = result.lesson.path
        found += [command("error", line, path) for line in result.failures()]
        found += [command("notice", line, path) for line in result.lint()]
        for line in result.borrowing():
            if standalone:
                found.append(command("error", line, path))
            else:  # as ``harness check`` prints it
                found.append(command("notice", line.replace(": uses ", ": [info] uses ", 1), path))
    return found
