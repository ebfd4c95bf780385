"""The globs of ``[[tool.harness.overrides]]`` ``paths``, as regular expressions."""

from __future__ import annotations

import re

_GLOBS: dict[str, re.Pattern[str]] = {}


def glob_pattern(pattern: str) -> re.Pattern[str]:
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
