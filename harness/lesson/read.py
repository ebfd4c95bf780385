"""Read a lesson: its front matter and every fenced block, each with its 1-based lines.

A *Lesson* is the document; a *Fence* is one region of it. Parsing is markdown-it-py's, in the
one configuration of ``harness.lesson.markdown`` (``Token.map`` gives the source lines); the
token stream is kept (``Lesson.tokens``) and each fence knows its token (``Fence.token``) and
its AST (``Fence.tree``, parsed once). Fence styles and formats are ``harness.lesson.formats``'s,
console sessions ``harness.lesson.console``'s, front matter ``harness.lesson.frontmatter``'s;
directives for the harness are HTML comments just before a fence (``harness.lesson.directives``).
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path

from markdown_it.token import Token

from harness.lesson.console import Example
from harness.lesson.directives import Directives, parse_directive
from harness.lesson.errors import LessonError
from harness.lesson.formats import (
    PYTHON_LANGUAGES,
    fence_language,
    not_run,
    runnable_code,
    selected_tab,
    unwrap_admonitions,
)
from harness.lesson.fragments import fragment_tree, is_fragment, last_class
from harness.lesson.frontmatter import NotYaml, front_matter, lesson_id
from harness.lesson.hints import directives_inside, prose_between
from harness.lesson.markdown import markdown_parser, source_lines
from harness.lesson.trees import ParseMemo, at_lesson_lines, block_tree

_CLOSING = re.compile(r"[\s>]*(`{3,}|~{3,})\s*")  # in a list or a blockquote too

__all__ = ["Example", "Fence", "Lesson", "LessonError", "parse_lesson", "read_lesson"]


@dataclass(frozen=True)
class Fence:
    """One fenced block: ``line`` is the opening fence, ``code`` starts on ``line + 1``.

    ``code`` is what runs: the fence's text with MyST option lines blanked, doctest prompts
    removed (expected outputs become ``examples``) and ``replace`` directives applied, always
    with the lesson's line numbers. ``hidden``: the fence sits inside an HTML comment.
    ``token``: the index of its ``fence`` token in ``Lesson.tokens`` (None for a hidden fence,
    whose text is inside an ``html_block`` token, and for a Fence made by hand).
    """

    line: int
    end_line: int
    info: str
    language: str
    code: str
    directives: Directives = field(default_factory=Directives)
    examples: tuple[Example, ...] = ()
    hidden: bool = False
    doctest: bool = False  # written as a console session: ``>>>`` prompts
    token: int | None = field(default=None, compare=False, repr=False)
    fragment_of: str = ""  # the class this indented method belongs to (harness.lesson.fragments)

    @property
    def code_line(self) -> int:
        return self.line + 1

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON_LANGUAGES

    @property
    def time_limit(self) -> float | None:
        return self.directives.time_limit

    @functools.cached_property
    def tree(self) -> ast.Module | None:
        """The block's AST with lesson line numbers, or None when ``code`` does not parse.

        Parsed once (usually while the lesson is read) and shared by every reader: never
        change it in place (``copy.deepcopy`` it first, as instrumenting does)."""
        if self.fragment_of:
            return fragment_tree(self.code, self.code_line, self.fragment_of)
        return block_tree(self.code, self.code_line)

    @functools.cached_property
    def comment_tokens(self) -> tuple[tokenize.TokenInfo, ...]:
        """The ``#`` comments of ``code`` (rows counted from its first line), tokenized once:
        those before a point where it stops tokenizing, if it does."""
        found: list[tokenize.TokenInfo] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.code).readline):
                if token.type == tokenize.COMMENT:
                    found.append(token)
        except (tokenize.TokenError, SyntaxError):
            pass
        return tuple(found)

    @functools.cached_property
    def uncommented(self) -> str:
        """``code`` with its comments cut (each runs to its line's end, so every other token
        keeps its place)."""
        lines = self.code.split("\n")
        for token in self.comment_tokens:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col].rstrip()
        return "\n".join(lines)


@dataclass(frozen=True)
class Lesson:
    path: str
    id: str
    title: str
    source: str
    fences: tuple[Fence, ...]
    # (line, kind, message): what does not stop the check (front matter that is not YAML,
    # a directive written inside a block)
    warnings: tuple[tuple[int, str, str], ...] = ()

    @property
    def python_fences(self) -> tuple[Fence, ...]:
        return tuple(f for f in self.fences if f.is_python)

    @functools.cached_property
    def tokens(self) -> tuple[Token, ...]:
        """The lesson's tokens from ``markdown_parser()``, of the text its fences were read
        from (``unwrap_admonitions(source)``: the same lines). Kept from ``parse_lesson``'s
        own parse; shared: never change a token in place."""
        return tuple(markdown_parser().parse(unwrap_admonitions(self.source)))


def _closed(token: Token, lines: list[str]) -> bool:
    assert token.map is not None
    start, end = token.map
    if end - 1 <= start or end > len(lines):
        return False
    closing = _CLOSING.fullmatch(lines[end - 1])
    marker = token.markup
    return (
        closing is not None
        and closing.group(1)[0] == marker[0]
        and len(closing.group(1)) >= len(marker)
    )


@dataclass(frozen=True)
class _Reading:
    """What every fence of one lesson is read with."""

    path: str
    lines: list[str]
    tab: str


def _fence(
    token: Token,
    reading: _Reading,
    offset: int,
    directives: Directives,
    index: int | None,
) -> tuple[Fence, list[tuple[int, str, str]]]:
    """The fence of ``token`` (lines ``offset`` below the token's own), and the hints for
    its author. ``index``: the token's place in the lesson's tokens, None in a hidden one."""
    assert token.map is not None
    path = reading.path
    start, end = token.map[0] + offset, token.map[1] + offset
    if not _closed(token, reading.lines[offset:]):
        raise LessonError(path, "this code fence is never closed (no closing ``` line)", start + 1)
    language = fence_language(token.info)
    why = not_run(token.content, reading.tab) if language in PYTHON_LANGUAGES else None
    if why is not None and directives.skip is None:
        directives = replace(directives, line=directives.line or start + 2 + why[0], skip=why[1])
    memo = ParseMemo()
    code, examples, console = runnable_code(
        token.info, language, token.content, start + 2, path, memo
    )
    code = directives.apply(code, start + 1, path)
    fence = Fence(
        start + 1,
        end,
        token.info,
        language,
        code,
        directives,
        examples,
        index is None,
        console,
        index,
    )
    known, tree = memo.take(code)
    if known:  # parsed while reading: the fence's tree without a second parse
        vars(fence)["tree"] = at_lesson_lines(tree, fence.code_line)
    hints = directives_inside(fence, token.content, path) if fence.is_python else []
    return fence, hints


def parse_lesson(source: str, path: str, tab: str | None = None) -> Lesson:
    """Parse lesson text; ``path`` is how messages name the file; ``tab``: the framework whose
    d2l ``%%tab`` blocks run (default ``selected_tab()``: pytorch, or ``HARNESS_TAB``).

    Unusable input (front matter that is not YAML, an unclosed fence, an unknown or misplaced
    directive) raises LessonError with the line.
    """
    tab = (tab or selected_tab()).strip().lower()
    parsed = unwrap_admonitions(source)  # the same lines, admonition bodies moved out
    tokens = tuple(markdown_parser().parse(parsed))
    reading = _Reading(path, source_lines(parsed), tab)
    meta: dict[str, object] = {}
    fences: list[Fence] = []
    title = ""
    pending = Directives()
    warnings: list[tuple[int, str, str]] = []
    for index, token in enumerate(tokens):
        if token.type == "html_block" and token.map is not None:
            directive = parse_directive(token.content, token.map[0] + 1, path)
            if directive is None:
                continue
            if directive.name == "hidden":
                found = _hidden(directive.body, token.map[0] + 1, reading, pending)
                fences.extend(fence for fence, _ in found)
                warnings.extend(hint for _, hints in found for hint in hints)
                pending = Directives()
            else:
                pending = pending.add(directive, path)
            continue
        if pending and token.type != "fence" and token.block and token.nesting >= 0:
            raise LessonError(
                path,
                "the directive is not followed by a code block (found "
                f"{token.type.removesuffix('_open')}){prose_between(tokens, index)}",
                pending.line,
            )
        if token.type == "front_matter":
            try:
                meta = front_matter(token.content, path)
            except NotYaml as error:  # an unescaped quote in a title: still a lesson
                problem = error.reason.removeprefix("front matter is not valid YAML: ")
                why = f"{problem}; the id comes from the file name"
                warnings.append((error.line or 1, "front matter is not valid YAML", why))
        elif token.type == "fence" and token.map is not None:
            fence, hints = _fence(token, reading, 0, pending, index)
            fences.append(fence)
            warnings.extend(hints)
            pending = Directives()
        elif token.type == "heading_open" and token.tag == "h1" and not title:
            title = tokens[index + 1].content
    if pending:
        raise LessonError(path, "the directive is not followed by a code block", pending.line)
    lesson = Lesson(
        path=path,
        id=lesson_id(meta, path, source),
        title=str(meta.get("title") or title or Path(path).stem),
        source=source,
        fences=_with_fragments(fences),
        warnings=tuple(sorted(warnings, key=lambda warning: warning[0])),
    )
    vars(lesson)["tokens"] = tokens  # the parse just made: Lesson.tokens without another
    return lesson


def _with_fragments(fences: list[Fence]) -> tuple[Fence, ...]:
    """Fences with each indented method fragment tied to the last class defined before it."""
    linked: list[Fence] = []
    for fence in fences:
        if fence.is_python and fence.tree is None and is_fragment(fence.code):
            target = last_class([f.tree for f in linked if f.is_python])
            if target:
                fence = replace(fence, fragment_of=target)
        linked.append(fence)
    return tuple(linked)


def _hidden(
    body: str, line: int, reading: _Reading, pending: Directives
) -> list[tuple[Fence, list[tuple[int, str, str]]]]:
    """The fences inside a ``<!-- harness: hidden ... -->`` comment that starts at ``line``."""
    found = [
        _fence(token, reading, line - 1, pending, None)
        for token in markdown_parser().parse(body)
        if token.type == "fence" and token.map is not None
    ]
    python = [(fence, hints) for fence, hints in found if fence.is_python]
    if not python:
        raise LessonError(reading.path, "a hidden directive holds no Python code block", line)
    return python


def read_lesson(path: Path | str, tab: str | None = None) -> Lesson:
    """Read and parse a lesson file; unusable input raises LessonError with a one-line reason."""
    shown = str(path)
    file = Path(path)
    if not file.exists():
        raise LessonError(shown, "no such file")
    if file.is_dir():
        raise LessonError(shown, "is a folder, not a lesson file")
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise LessonError(shown, f"cannot be read: {error.strerror}") from None
    if b"\0" in raw:
        raise LessonError(shown, "is a binary file, not markdown")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise LessonError(shown, f"is not UTF-8 (byte {error.start})", line) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise LessonError(shown, "is empty")
    lesson = parse_lesson(text, shown, tab)
    if not lesson.python_fences:
        raise LessonError(
            shown,
            "no Python blocks found (fences tagged python, py, python3, pycon or "
            "{code-block} python)",
        )
    return lesson
