from __future__ import annotations

from pathlib import Path

import pytest

from harness.lesson import LessonError, parse_lesson, read_lesson
from tests.paths import LESSON

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
        (b"", "l.md: is empty"),
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


@pytest.mark.parametrize(
    ("info", "language"),
    [
        ("py", "py"),
        ("python3", "python3"),
        ("pycon", "pycon"),
        ("{code-block} python", "python"),
        ("{code-cell} ipython3", "ipython3"),
        ("{.python .input}", "python"),
        ("{code-block} bash", "bash"),
    ],
)
def test_fence_styles_of_real_lessons(info: str, language: str) -> None:
    (fence,) = parse_lesson(f"```{info}\nx = 1\n```\n", "l.md").fences
    assert fence.language == language
    assert fence.is_python == (language != "bash")


def test_myst_options_are_not_code_and_lines_stay() -> None:
    text = "# T\n\n```{code-block} python\n:caption: A layer\n:linenos:\n\nx = 1\n```\n"
    (fence,) = parse_lesson(text, "l.md").fences
    assert fence.code.splitlines() == ["", "", "", "x = 1"]  # x = 1 is line 7 of the lesson


def test_a_console_session_becomes_python_on_the_same_lines() -> None:
    text = (
        "```pycon\n>>> import torch\n>>> x = torch.zeros(5, 3)\n>>> x.shape\n"
        "torch.Size([5, 3])\n>>> for i in range(2):\n...     print(i)\n0\n1\n```\n"
    )
    (fence,) = parse_lesson(text, "l.md").fences
    assert fence.doctest
    assert fence.code.splitlines() == [
        "import torch", "x = torch.zeros(5, 3)", "x.shape", "", "for i in range(2):",
        "    print(i)", "", "",
    ]  # fmt: skip
    assert [(e.line, e.end_line, e.want, e.want_line) for e in fence.examples] == [
        (4, 4, "torch.Size([5, 3])\n", 5),
        (6, 7, "0\n1\n", 8),
    ]
    # a python fence whose first line is a prompt is a console session too
    (same,) = parse_lesson(text.replace("```pycon", "```python"), "l.md").fences
    assert same.doctest and same.examples == fence.examples


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# T\n\n```python\nx = 1\n", 3),
        ("# T\n\n```python\nx = 1\n```\n\n~~~python\ny = 2\n", 7),
        ("- item\n\n  ```python\n  x = 1\n", 3),
    ],
)
def test_an_unclosed_fence_is_an_error_at_its_line(text: str, line: int) -> None:
    with pytest.raises(LessonError, match=rf"^l\.md:{line}: this code fence is never closed"):
        parse_lesson(text, "l.md")


def test_closed_fences_in_quotes_and_lists_are_closed() -> None:
    text = "> ```python\n> x = 1\n> ```\n\n- a\n\n  ````python\n  y = 2\n  ````\n"
    assert [f.line for f in parse_lesson(text, "l.md").fences] == [1, 7]


def test_myst_options_before_a_console_session_and_ipython_magics() -> None:
    text = "```{code-block} python\n:caption: x\n>>> 1 + 1\n2\n```\n"
    (fence,) = parse_lesson(text, "l.md").fences
    assert fence.doctest and [e.want for e in fence.examples] == ["2\n"]
    text = "```{code-cell} ipython3\n%matplotlib inline\n!pip install torch\nx = 1\n```\n"
    (cell,) = parse_lesson(text, "l.md").fences
    assert cell.code.split("\n")[:3] == ["", "", "x = 1"]  # never run, lines kept


@pytest.mark.parametrize(
    ("name", "lesson_id"),
    [
        ("intro.md", "intro"),
        ("intro (copy).md", "intro-copy"),
        ("my lesson [v2].md", "my-lesson-v2"),
        ("leçon.md", "lecon"),
        (".hidden.md", "hidden"),
        ("日本.md", "lesson-" + __import__("hashlib").sha256("日本".encode()).hexdigest()[:8]),
    ],
)
def test_an_id_is_made_safe_from_the_file_name(name: str, lesson_id: str) -> None:
    assert parse_lesson("```python\nx = 1\n```\n", f"d/{name}").id == lesson_id


@pytest.mark.parametrize(
    ("name", "front", "message"),
    [
        ("...md", "", "d/...md:1: the file name '...md' gives no usable lesson id"),
        ("a.md", "id: ..\n", "d/a.md:2: front matter id '..' is not a usable file name"),
        ("a.md", "title: t\nid: a/b\n", "d/a.md:3: front matter id 'a/b' is not a usable"),
        ("a.md", "id: a\\b\n", "d/a.md:2: front matter id 'a\\\\b' is not a usable"),
        ("a.md", "id: .git\n", "d/a.md:2: front matter id '.git' is not a usable"),
        ("a.md", "id: a b\n", "d/a.md:2: front matter id 'a b' is not a usable"),
        ("a.md", "id: [a]\n", "d/a.md:2: front matter id \"['a']\" is not a usable"),
        ("a.md", f"id: {'x' * 101}\n", "d/a.md:2: front matter id 'xxxx"),
    ],
)
def test_an_unsafe_id_is_unusable_input_at_its_line(name: str, front: str, message: str) -> None:
    text = (f"---\n{front}---\n" if front else "") + "```python\nx = 1\n```\n"
    with pytest.raises(LessonError) as caught:
        parse_lesson(text, f"d/{name}")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


BOMB = "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n" + BOMB + "title: *i\n",
            "l.md:3: front matter uses a YAML alias (*name): write the value out",
        ),
        ("a: " + "[" * 20000 + "]" * 20000 + "\n", "l.md:1: front matter nests 20000 levels deep"),
        ("title: " + "x" * 100_000 + "\n", "l.md:1: front matter is 100,007 characters long"),
    ],
    ids=["alias bomb", "deep", "long"],
)
def test_front_matter_is_read_in_bounded_time_and_memory(front: str, message: str) -> None:
    """An alias bomb once expanded to 387 million strings; 20,000 brackets took 36 s."""
    with pytest.raises(LessonError) as caught:
        parse_lesson(f"---\n{front}---\n```python\nx = 1\n```\n", "l.md")
    assert str(caught.value).startswith(message)


def test_front_matter_that_is_not_yaml_is_a_warning_with_its_line() -> None:
    lesson = parse_lesson("---\nid: [unclosed\n---\n```python\nx=1\n```\n", "d/l.md")
    assert lesson.id == "l"
    ((line, kind, why),) = lesson.warnings
    assert (line, kind) == (2, "front matter is not valid YAML")
    assert why.endswith("; the id comes from the file name")


def test_expected_exceptions_and_warnings_are_read_from_outputs() -> None:
    from harness.lesson import expected_exception, expected_warning, is_console

    assert expected_exception("RuntimeError: The size of tensor a (2) must match") == (
        "RuntimeError",
        "The size of tensor a (2) must match",
    )
    traceback = "Traceback (most recent call last):\n  ...\nValueError: bad\n"
    assert expected_exception(traceback) == ("ValueError", "bad")
    assert expected_exception("torch.Size([2, 3])") is None
    assert expected_exception("Error rate: 3%") is None
    assert expected_warning("__main__:1: UserWarning: careful\nmore") == "UserWarning"
    assert is_console("python", "# a comment\n\n>>> x = 1\n")
    assert not is_console("python", "# a comment\nx = 1\n>>> y\n")
