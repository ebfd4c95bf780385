"""Hints for an author's likely mistakes: what was written, what the harness made of it, and a
``did you mean`` with what would work.

- a directive written inside a Python block (``# harness: skip "why"`` or
  ``<!-- harness: skip "why" -->`` as a code line), where the harness does not read it: a
  warning (``Lesson.warnings``) at the line, the lesson is still checked as written;
- a directive separated from its fence by prose: an error today (the directive applies to no
  block), whose message names the fence it probably meant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markdown_it.token import Token

from harness.lesson.directives import KNOWN, parse_directive, usage
from harness.lesson.errors import LessonError

if TYPE_CHECKING:
    from harness.lesson.read import Fence

INSIDE = "directive inside the block"  # the kind of the warning
_AS_COMMENT = re.compile(r"[ \t]*#[ \t]*harness[ \t]*:(.*)")
_AS_HTML = re.compile(r"[ \t]*<!--[ \t]*harness[ \t]*:(.*?)-->[ \t]*")
_FIELDS = {"skip": "skip", "raises": "raises", "time-limit": "time_limit"}


def directives_inside(fence: Fence, content: str, path: str) -> list[tuple[int, str, str]]:
    """(line, kind, message) for each line of a Python fence's text (``content``, as written)
    that is a harness directive: it belongs on the line before the fence."""
    found = []
    for offset, text in enumerate(content.split("\n")):
        html = _AS_HTML.fullmatch(text)
        said = html or _AS_COMMENT.fullmatch(text)
        if said is None:
            continue
        body = said.group(1).strip()
        name = body.split(None, 1)[0] if body else ""
        if name not in KNOWN or name == "hidden":
            continue
        given = _FIELDS.get(name)
        if given is not None and getattr(fence.directives, given) is not None:
            continue  # already given before the fence: this line changes nothing
        line = fence.code_line + offset
        try:  # the directive as written, when it is a good one; else its usage
            parse_directive(f"<!-- harness: {body} -->", line, path)
            meant = f"<!-- harness: {body} -->"
        except LessonError:
            meant = f"<!-- harness: {usage(name)} -->"
        if html is not None:
            effect = "where it is not Python (the block fails with a SyntaxError)"
        else:
            effect = "where it is a Python comment the harness does not read (the block runs)"
        found.append(
            (
                line,
                INSIDE,
                f"{text.strip()!r} is written inside the block at line {fence.line}, {effect}; "
                f"did you mean {meant} on its own line just before the fence at line {fence.line}?",
            )
        )
    return found


def prose_between(tokens: Sequence[Token], index: int) -> str:
    """A ``did you mean`` for a directive followed by ``tokens[index]`` (prose, a heading)
    instead of a fence: the next fence, if any, is the one it was probably meant for."""
    found = tokens[index]
    after = next(
        (t for t in tokens[index:] if t.type == "fence" and t.map is not None),
        None,
    )
    if after is None or after.map is None or found.map is None:
        return ""
    what = found.type.removesuffix("_open")
    return (
        f"; did you mean it for the fence at line {after.map[0] + 1}? The {what} at line "
        f"{found.map[0] + 1} stands between them: move the directive just before that fence"
    )
