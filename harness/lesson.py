"""Read a lesson: its front matter and every fenced block, each with its 1-based lines.

A *Lesson* is the document; a *Fence* is one region of it. Parsing is markdown-it-py's
(``Token.map`` gives the source lines), front matter is mdit-py-plugins' and PyYAML's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})


class LessonError(Exception):
    """A lesson the harness cannot use; ``str()`` is the one-line message for the author."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Fence:
    """One fenced block: ``line`` is the opening fence, ``code`` starts on ``line + 1``."""

    line: int
    end_line: int
    info: str
    language: str
    code: str

    @property
    def code_line(self) -> int:
        return self.line + 1

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON_LANGUAGES


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


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin)


def fence_language(info: str) -> str:
    """The language of an info string: ``python``, ``py title="x"`` -> first word, lower case."""
    words = info.strip().split()
    return words[0].lower() if words else ""


def parse_lesson(source: str, path: str) -> Lesson:
    """Parse lesson text; ``path`` is how messages name the file."""
    tokens = _markdown().parse(source)
    meta: dict[str, object] = {}
    fences: list[Fence] = []
    title = ""
    for index, token in enumerate(tokens):
        if token.type == "front_matter":
            meta = _front_matter(token.content, path)
        elif token.type == "fence" and token.map is not None:
            start, end = token.map
            fences.append(
                Fence(
                    line=start + 1,
                    end_line=end,
                    info=token.info,
                    language=fence_language(token.info),
                    code=token.content,
                )
            )
        elif token.type == "heading_open" and token.tag == "h1" and not title:
            title = tokens[index + 1].content
    stem = Path(path).stem
    lesson_id = str(meta.get("id") or stem)
    if not re.fullmatch(r"[\w.-]+", lesson_id):
        raise LessonError(path, f"front matter id {lesson_id!r} is not a usable file name", 1)
    return Lesson(
        path=path,
        id=lesson_id,
        title=str(meta.get("title") or title or stem),
        source=source,
        fences=tuple(fences),
    )


def _front_matter(text: str, path: str) -> dict[str, object]:
    try:
        data = yaml.safe_load(text)
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
    lesson = parse_lesson(text.removeprefix("\ufeff"), shown)
    if not lesson.python_fences:
        raise LessonError(shown, "no Python blocks found (fences tagged python, py or python3)")
    return lesson
