"""Directives: what an author tells the harness about the next block, in an HTML comment.

Written just before a fence, invisible where the article is rendered::

    <!-- harness: skip "downloads a dataset" -->
    <!-- harness: raises ValueError -->
    <!-- harness: time-limit 30 -->
    <!-- harness: replace "epochs=5" "epochs=1" -->
    <!-- harness: hidden
    ```python
    assert model.training
    ```
    -->

Several may stand before one fence. ``hidden`` holds its own fence, which runs in reader order
but is not shown. Any other comment starting ``harness:`` is an error at its line.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from dataclasses import dataclass, replace

from harness.lesson.errors import LessonError

MAX_TIME_LIMIT = 7 * 24 * 3600.0  # seconds: a week; past it a limit is a typo, not a lesson
KNOWN = ("skip", "raises", "time-limit", "replace", "hidden")
_COMMENT = re.compile(r"\s*<!--\s*harness\s*:(.*?)-->\s*", re.DOTALL)
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Directive:
    line: int
    name: str
    args: tuple[str, ...]
    body: str = ""  # hidden: the text holding the fence, from the comment's first line


@dataclass(frozen=True)
class Directives:
    """The directives that apply to one fence (empty: none)."""

    line: int = 0  # the first directive's line
    skip: str | None = None
    raises: str | None = None
    time_limit: float | None = None
    replacements: tuple[tuple[int, str, str], ...] = ()  # (directive line, old, new)

    def __bool__(self) -> bool:
        return self.line != 0

    def add(self, directive: Directive, path: str) -> Directives:
        line = self.line or directive.line
        if directive.name == "replace":
            old, new = directive.args
            return replace(
                self, line=line, replacements=(*self.replacements, (directive.line, old, new))
            )
        field = directive.name.replace("-", "_")
        if getattr(self, field) is not None:
            raise LessonError(
                path, f"{directive.name} is given twice for the same block", directive.line
            )
        if directive.name == "time-limit":
            return replace(self, line=line, time_limit=float(directive.args[0]))
        if directive.name == "skip":
            return replace(self, line=line, skip=directive.args[0])
        return replace(self, line=line, raises=directive.args[0])

    def apply(self, code: str, fence_line: int, path: str) -> str:
        """``code`` with every ``replace`` made; one whose text is absent is an error."""
        for line, old, new in self.replacements:
            if old not in code:
                raise LessonError(
                    path, f"replace: {old!r} is not in the block at line {fence_line}", line
                )
            code = code.replace(old, new)
        return code


def usage(name: str) -> str:
    """How a directive is written (``skip "why"``), for messages."""
    return {
        "skip": 'skip "why"',
        "raises": "raises ExceptionType",
        "time-limit": "time-limit SECONDS",
        "replace": 'replace "old text" "new text"',
    }[name]


def parse_directive(comment: str, line: int, path: str) -> Directive | None:
    """The directive in an HTML comment block starting at ``line``; None for other comments."""
    found = _COMMENT.fullmatch(comment)
    if found is None:
        if re.search(r"<!--\s*harness\s*:", comment):
            raise LessonError(
                path,
                "a directive must be an HTML comment of its own, with nothing else in its "
                "HTML block (no text or tags beside it on its lines)",
                line,
            )
        return None
    text = found.group(1)
    name = text.split(None, 1)[0] if text.strip() else ""
    if name == "hidden":
        body = text[text.index("hidden") + len("hidden") :]
        return Directive(line, name, (), body)
    if name not in KNOWN:
        close = difflib.get_close_matches(name, KNOWN, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LessonError(
            path, f"unknown directive {name!r} (known: {', '.join(KNOWN)}){hint}", line
        )
    first_line, _, rest = text.strip().partition("\n")
    if rest.strip():
        raise LessonError(path, f"{name} takes one line: <!-- harness: {usage(name)} -->", line)
    try:
        args = tuple(shlex.split(first_line)[1:])
    except ValueError as error:
        raise LessonError(path, f"{name}: {error}: <!-- harness: {usage(name)} -->", line) from None
    _validate(name, args, line, path)
    return Directive(line, name, args)


def _validate(name: str, args: tuple[str, ...], line: int, path: str) -> None:
    def bad(why: str) -> LessonError:
        return LessonError(path, f"{name}: {why}: write <!-- harness: {usage(name)} -->", line)

    if name == "skip" and (len(args) != 1 or not args[0].strip()):
        raise bad("expected one quoted reason")
    if name == "raises" and (len(args) != 1 or not _EXCEPTION.fullmatch(args[0])):
        raise bad(f"expected one exception type, got {' '.join(args) or 'nothing'}")
    if name == "time-limit":
        try:
            seconds = float(args[0]) if len(args) == 1 else math.nan
        except ValueError:
            seconds = math.nan
        if not 0 < seconds <= MAX_TIME_LIMIT:  # also nan and inf
            raise bad(
                f"expected seconds above 0 and at most {MAX_TIME_LIMIT:g} (a week), got "
                f"{' '.join(args)[:40] or 'nothing'}"
            )
    if name == "replace" and (len(args) != 2 or not args[0]):
        raise bad(f"expected two quoted texts, got {len(args)}")
