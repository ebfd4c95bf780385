from __future__ import annotations

from pathlib import Path

import pytest

from harness.lesson import LessonError, parse_lesson, read_lesson
from tests.conftest import LESSON

PYTHON_LINES = [44, 70, 92, 127, 158, 205, 267, 294, 343, 393, 426, 461, 509, 566, 607, 680, 703]


def test_dl_front_matter_and_fences() -> None:
    lesson = read_lesson(LESSON)
    assert (lesson.id, lesson.title) == ("dl", "Introduction to Deep Learning")
    assert [f.line for f in lesson.python_fences] == PYTHON_LINES
    bash = [f for f in lesson.fences if not f.is_python]
    assert [(f.line, f.language) for f in bash] == [(38, "bash")]
    first = lesson.python_fences[0]
    assert first.code.splitlines()[0] == "import torch"
    assert first.end_line == 64


def test_languages_and_defaults() -> None:
    text = (
        "# Title here\n\n```py\na = 1\n```\n\n"
        "```python3 title='x'\nb = 2\n```\n\n```text\nno\n```\n"
    )
    lesson = parse_lesson(text, "x/some.md")
    assert (lesson.id, lesson.title) == ("some", "Title here")
    assert [(f.line, f.language, f.is_python) for f in lesson.fences] == [
        (3, "py", True),
        (7, "python3", True),
        (11, "text", False),
    ]


def test_fences_inside_lists_keep_their_lines() -> None:
    text = "- item\n\n  ```python\n  x = 1\n  ```\n"
    (fence,) = parse_lesson(text, "l.md").fences
    assert (fence.line, fence.code) == (3, "x = 1\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe bad", "l.md:1: is not UTF-8"),
        (b"ab\x00cd", "l.md: is a binary file"),
        (b"# Only prose\n", "l.md: no Python blocks found"),
        (b"", "l.md: no Python blocks found"),
        (
            b"---\nid: [unclosed\n---\n```python\nx=1\n```\n",
            "l.md:2: front matter is not valid YAML",
        ),
    ],
)
def test_unusable_lessons_get_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "l.md").write_bytes(content)
    with pytest.raises(LessonError) as caught:
        read_lesson(tmp_path / "l.md")
    text = str(caught.value).replace(str(tmp_path) + "/", "")
    assert text.startswith(message)
    assert "\n" not in text


def test_missing_path() -> None:
    with pytest.raises(LessonError, match=r"^nope\.md: no such file$"):
        read_lesson("nope.md")
