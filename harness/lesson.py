"""Read a lesson: its front matter and every fenced block, each with its 1-based lines.

A *Lesson* is the document; a *Fence* is one region of it. Parsing is markdown-it-py's
(``Token.map`` gives the source lines), front matter is mdit-py-plugins' and PyYAML's.
Fence styles: ```` ```python ````, ``py``, ``python3``, ``pycon``, MyST ``{code-block} python``
and d2l's ``{.python .input}``; doctest-style blocks (``>>>`` lines) become plain Python whose
expected outputs are kept as ``Example``s. Directives for the harness are HTML comments just
before a fence (``harness.directives``).
"""

from __future__ import annotations

import doctest
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from harness.directives import Directives, parse_directive
from harness.errors import LessonError

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "pycon", "ipython3", "ipython"})
DOCTEST_LANGUAGES = frozenset({"pycon"})
IPYTHON_LANGUAGES = frozenset({"ipython3", "ipython"})
_MAGIC = re.compile(r"\s*[%!]")  # %matplotlib inline, %%time, !pip install
_MYST = re.compile(r"\{(?:code-block|code-cell|code|sourcecode)\}\s*(\S*)")
_CLOSING = re.compile(r"[\s>]*(`{3,}|~{3,})\s*")  # in a list or a blockquote too
_MYST_OPTION = re.compile(r"\s*:[\w-]+:.*")


__all__ = ["Example", "Fence", "Lesson", "LessonError", "parse_lesson", "read_lesson"]


@dataclass(frozen=True)
class Example:
    """A doctest example's expected output: claimed by the statement at ``line``..``end_line``."""

    line: int
    end_line: int
    want: str
    want_line: int
    options: tuple[tuple[int, bool], ...] = ()


@dataclass(frozen=True)
class Fence:
    """One fenced block: ``line`` is the opening fence, ``code`` starts on ``line + 1``.

    ``code`` is what runs: the fence's text with MyST option lines blanked, doctest prompts
    removed (expected outputs become ``examples``) and ``replace`` directives applied, always
    with the lesson's line numbers. ``hidden``: the fence sits inside an HTML comment.
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

    @property
    def code_line(self) -> int:
        return self.line + 1

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON_LANGUAGES

    @property
    def time_limit(self) -> float | None:
        return self.directives.time_limit


@dataclass(frozen=True)
class Lesson:
    path: str
    id: str
    title: str
    source: str
    fences: tuple[Fence, ...]

    @property
    def python_fences(self) -> tuple[Fence, ...]:
        return tuple(f for f in self.fences if f.is_python)


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` as markdown-it counts them: split at ``\\n``, ``\\r\\n`` and ``\\r``
    only (``str.splitlines`` also splits at form feeds and Unicode separators)."""
    return re.split(r"\r\n|\r|\n", text)


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin)


def fence_language(info: str) -> str:
    """The language of an info string, lower case: ``python``, ``py title="x"`` -> first word;
    MyST ``{code-block} python`` -> ``python``; d2l ``{.python .input}`` -> ``python``."""
    info = info.strip()
    myst = _MYST.match(info)
    if myst:
        return myst.group(1).lower()
    if info.startswith("{."):
        return info[2:].split()[0].rstrip("}").lower() if len(info) > 2 else ""
    words = info.split()
    return words[0].lower() if words else ""


def is_console(language: str, code: str) -> bool:
    """A console session: a ``pycon`` fence, or Python whose first line is a ``>>>`` prompt."""
    if language in DOCTEST_LANGUAGES:
        return True
    first = next((line for line in code.splitlines() if line.strip()), "")
    return first.lstrip().startswith(">>>")


def _doctest_code(code: str, first_line: int, path: str) -> tuple[str, tuple[Example, ...]]:
    """Doctest text as plain Python on the same lines, and each example's expected output."""
    try:
        examples = doctest.DocTestParser().get_examples(code, path)
    except ValueError as error:  # inconsistent indentation, a prompt without a space
        found = re.search(r"line (\d+)", str(error))
        line = first_line + int(found.group(1)) - 1 if found else first_line
        raise LessonError(path, f"doctest block: {str(error).splitlines()[0]}", line) from None
    lines = [""] * len(code.split("\n"))
    kept: list[Example] = []
    for example in examples:
        source = example.source.rstrip("\n").split("\n")
        for offset, text in enumerate(source):
            lines[example.lineno + offset] = text
        line = first_line + example.lineno
        end = line + len(source) - 1
        if example.want:
            options = tuple(sorted(example.options.items()))
            kept.append(Example(line, end, example.want, end + 1, options))
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n", tuple(kept)


def _code(
    info: str, language: str, content: str, first_line: int, path: str
) -> tuple[str, tuple[Example, ...], bool]:
    """What runs, the doctest examples, and whether the block is a console session."""
    if language not in PYTHON_LANGUAGES:
        return content, (), False
    lines = content.split("\n")
    if _MYST.match(info.strip()):  # option lines at the top: ``:caption: x``, or a YAML header
        if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            lines[: end + 1] = [""] * (end + 1)
        for index, text in enumerate(lines):
            if not _MYST_OPTION.fullmatch(text):
                break
            lines[index] = ""
    if language in IPYTHON_LANGUAGES:  # magics and shell escapes are not Python: never run
        lines = ["" if _MAGIC.match(text) else text for text in lines]
    content = "\n".join(lines)
    if is_console(language, content):
        code, examples = _doctest_code(content, first_line, path)
        return code, examples, True
    return content, (), False


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


def _fence(
    token: Token, path: str, lines: list[str], offset: int, directives: Directives, hidden: bool
) -> Fence:
    assert token.map is not None
    start, end = token.map[0] + offset, token.map[1] + offset
    if not _closed(token, lines[offset:]):
        raise LessonError(path, "this code fence is never closed (no closing ``` line)", start + 1)
    language = fence_language(token.info)
    code, examples, console = _code(token.info, language, token.content, start + 2, path)
    code = directives.apply(code, start + 1, path)
    return Fence(start + 1, end, token.info, language, code, directives, examples, hidden, console)


def parse_lesson(source: str, path: str) -> Lesson:
    """Parse lesson text; ``path`` is how messages name the file.

    Unusable input (front matter that is not YAML, an unclosed fence, an unknown or misplaced
    directive) raises LessonError with the line.
    """
    tokens = _markdown().parse(source)
    lines = source_lines(source)
    meta: dict[str, object] = {}
    fences: list[Fence] = []
    title = ""
    pending = Directives()
    for index, token in enumerate(tokens):
        if token.type == "html_block" and token.map is not None:
            directive = parse_directive(token.content, token.map[0] + 1, path)
            if directive is None:
                continue
            if directive.name == "hidden":
                fences.extend(_hidden(directive.body, token.map[0] + 1, path, lines, pending))
                pending = Directives()
            else:
                pending = pending.add(directive, path)
            continue
        if pending and token.type != "fence" and token.block and token.nesting >= 0:
            raise LessonError(
                path,
                "the directive is not followed by a code block (found "
                f"{token.type.removesuffix('_open')})",
                pending.line,
            )
        if token.type == "front_matter":
            meta = front_matter(token.content, path)
        elif token.type == "fence" and token.map is not None:
            fences.append(_fence(token, path, lines, 0, pending, False))
            pending = Directives()
        elif token.type == "heading_open" and token.tag == "h1" and not title:
            title = tokens[index + 1].content
    if pending:
        raise LessonError(path, "the directive is not followed by a code block", pending.line)
    stem = Path(path).stem
    given = meta.get("id")
    if given is None or given == "":
        lesson_id = id_from_file_name(stem)
        if lesson_id is None:
            raise LessonError(
                path,
                f"the file name {Path(path).name!r} gives no usable lesson id (letters, digits, "
                "'_', '-' or '.', not starting with '.'): rename it or give `id:` in front matter",
                1,
            )
    else:
        lesson_id = str(given)
        if not isinstance(given, str | int) or not SAFE_ID.fullmatch(lesson_id):
            raise LessonError(
                path,
                f"front matter id {lesson_id[:80]!r} is not a usable file name: expected "
                f"letters, digits, '_', '-' or '.', starting with a letter, digit or '_', at "
                f"most {MAX_ID} characters",
                _front_matter_line(source, "id"),
            )
    return Lesson(
        path=path,
        id=lesson_id,
        title=str(meta.get("title") or title or stem),
        source=source,
        fences=tuple(fences),
    )


def _hidden(body: str, line: int, path: str, lines: list[str], pending: Directives) -> list[Fence]:
    """The fences inside a ``<!-- harness: hidden ... -->`` comment that starts at ``line``."""
    found = [
        _fence(token, path, lines, line - 1, pending, True)
        for token in _markdown().parse(body)
        if token.type == "fence" and token.map is not None
    ]
    python = [fence for fence in found if fence.is_python]
    if not python:
        raise LessonError(path, "a hidden directive holds no Python code block", line)
    return python


MAX_ID = 100
MAX_FRONT_MATTER = 64 * 1024  # characters
MAX_NESTING = 50  # [ and { in front matter
# a lesson id names a folder (snippets/<id>/) and a page (<id>.html): one plain path component
SAFE_ID = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_ID - 1}}}")


def id_from_file_name(stem: str) -> str | None:
    """A safe lesson id made from a file name: ``intro (copy)`` -> ``intro-copy``,
    ``leçon`` -> ``lecon``, ``日本`` -> ``lesson-`` and a hash of the name; None when the name
    holds no letter or digit (``..``)."""
    if SAFE_ID.fullmatch(stem):
        return stem
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    made = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text)
    made = re.sub(r"-{2,}", "-", made).strip("-.")[:MAX_ID].rstrip("-.")
    if SAFE_ID.fullmatch(made):
        return made
    if any(c.isalnum() for c in stem):  # a name in another script: ``日本`` -> lesson-1b2c3d4e
        return "lesson-" + hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return None


def _front_matter_line(source: str, key: str) -> int:
    """The lesson line of ``key:`` in the front matter (which starts at line 1), else 1."""
    for number, text in enumerate(source_lines(source)[1:], start=2):
        if text.strip() in ("---", "..."):
            break
        if re.match(rf"{re.escape(key)}\s*:", text):
            return number
    return 1


def front_matter(text: str, path: str) -> dict[str, object]:
    """Front matter text as a mapping; not YAML or not a mapping raises LessonError.

    Bounded: at most ``MAX_FRONT_MATTER`` characters, ``MAX_NESTING`` levels of ``[``/``{``
    and no aliases (``*name``), so neither an alias bomb nor a deeply nested document can take
    the memory, the stack or minutes of the process (main process and workers alike).
    """
    if len(text) > MAX_FRONT_MATTER:
        raise LessonError(
            path,
            f"front matter is {len(text):,} characters long: at most {MAX_FRONT_MATTER:,} are "
            "read (an id and a title need a few)",
            1,
        )
    depth = deepest = 0
    for char in text:  # PyYAML's scanner is quadratic in the nesting of [ and {
        depth += (char in "[{") - (char in "]}")
        deepest = max(depth, deepest)
    if deepest > MAX_NESTING:
        raise LessonError(
            path, f"front matter nests {deepest} levels deep: at most {MAX_NESTING} are read", 1
        )
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line = mark.line + 2 if mark is not None else 1
                raise LessonError(
                    path, "front matter uses a YAML alias (*name): write the value out", line
                )
        data = yaml.safe_load(text)
    except RecursionError:
        raise LessonError(path, "front matter nests too deeply to be read", 1) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise LessonError(path, f"front matter is not valid YAML: {problem}", line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LessonError(path, "front matter is not a mapping of keys to values", 1)
    return {str(k): v for k, v in data.items()}


def read_lesson(path: Path | str) -> Lesson:
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
    lesson = parse_lesson(text, shown)
    if not lesson.python_fences:
        raise LessonError(
            shown,
            "no Python blocks found (fences tagged python, py, python3, pycon or "
            "{code-block} python)",
        )
    return lesson
