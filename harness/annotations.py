"""GitHub Actions annotations: failures shown on the pull request's diff, at their lines.

Under GitHub Actions (``GITHUB_ACTIONS=true``) ``harness check`` prints each message once, as
its workflow command instead of its plain line: ``::error file=lessons/dl.md,line=386,title=
harness [cpu]::output.shape: expected ...`` for failures and unusable input, ``::notice`` for
a device asked for and absent, and for information lines (only with ``-v``). Commands are
built from ``harness.results.Message`` fields, never parsed back from text. Escaping follows
GitHub's rules for workflow commands: ``%``, ``\\r`` and ``\\n`` everywhere, and ``:`` and
``,`` too in properties. Before that, the text and the path are made one line with their
control characters shown escaped (``harness.results.one_line``: a ``\\n`` or an ESC that
lesson code raised is shown as ``\\n``, ``\\x1b``), as ``harness check`` prints them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.results import Level, Message, one_line

_COMMANDS = {Level.ERROR: "error", Level.NOTICE: "notice", Level.INFO: "notice"}


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this run is a GitHub Actions step (GitHub sets ``GITHUB_ACTIONS=true``)."""
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def title(message: Message) -> str:
    """``harness [cpu]`` (the device), ``harness [info]`` (information), else ``harness``."""
    if message.level == Level.INFO:
        return f"harness [info] [{message.device}]" if message.device else "harness [info]"
    return f"harness [{message.device}]" if message.device else "harness"


def command(message: Message) -> str:
    """One workflow command: ``::error file=PATH,line=LINE,title=TITLE::TEXT``."""
    path, text = one_line(message.path), one_line(message.text)
    properties = []
    if path:
        properties.append(f"file={escape_property(_in_workspace(path))}")
    if path and message.line is not None:
        properties.append(f"line={message.line}")
    properties.append(f"title={escape_property(one_line(title(message)))}")
    return f"::{_COMMANDS[message.level]} {','.join(properties)}::{escape_data(text)}"


def commands(messages: Iterable[Message], verbose: bool = False) -> list[str]:
    """The annotations of ``messages``: errors and notices, information only when ``verbose``."""
    return [command(m) for m in messages if verbose or m.level != Level.INFO]


def _in_workspace(path: str) -> str:
    """An absolute path under the checkout, relative to it: GitHub matches files that way."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and Path(path).is_absolute():
        try:
            return Path(path).relative_to(workspace).as_posix()
        except ValueError:
            return path
    return path
