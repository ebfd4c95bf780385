"""Property tests of the parser: random markdown never crashes it, and fences keep their lines.

``documents()`` builds markdown from known pieces (fences with ``` or ~~~, info strings
python/py/bash/none, indented or not, in lists, nested lists and blockquotes; front matter,
HTML comments, indented code, headings, prose) and remembers where each fence opens and what
it holds, so every Fence the parser returns can be compared with what was written.
``noise()`` is markdown-ish text with anything in between: only LessonError may come out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.lesson import LessonError, parse_lesson

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORDS = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;!?()'\"\u00e9\u4e2d"),
    min_size=1,
    max_size=30,
).map(lambda text: text.strip() or "text")
# what a code line may hold: Python-ish text, never a fence marker of its own
CODE_LINE = st.text(st.sampled_from("abcxyz0123456789 =()[]{}:.,#'\"+-*/_"), max_size=30).map(
    str.rstrip
)


@dataclass(frozen=True)
class Expected:
    line: int  # 1-based, the opening fence
    end_line: int  # the closing fence
    info: str
    code: str


@dataclass(frozen=True)
class Container:
    """Where a fence sits: lines opening the container, then a prefix on every fence line."""

    opening: tuple[str, ...]
    prefix: str
    blank: str  # an empty code line inside it


CONTAINERS = [
    Container((), "", ""),
    Container(("- item",), "  ", ""),
    Container(("1. item",), "   ", ""),
    Container(("- outer", "  - inner"), "    ", ""),
    Container((), "> ", ">"),
    Container((), "> > ", "> >"),
    Container(("- item",), "  > ", "  >"),
]


@st.composite
def fences(draw: st.DrawFn) -> tuple[list[str], int, int, Expected]:
    """A fence in a container: its lines, the index of its opening and closing lines, what
    it holds."""
    container = draw(st.sampled_from(CONTAINERS))
    char = draw(st.sampled_from("`~"))
    length = draw(st.integers(3, 5))
    indent = " " * draw(st.integers(0, 3))
    info = draw(st.sampled_from(["python", "py", "bash", "", "python title=x", "Python"]))
    # shorter runs of the marker, and the other marker, do not close the fence
    decoy = st.sampled_from([char * (length - 1), ("~" if char == "`" else "`") * 3 + "python"])
    code = draw(st.lists(st.one_of(CODE_LINE, decoy), max_size=5))
    closing = char * draw(st.integers(length, length + 2)) + " " * draw(st.integers(0, 2))
    close_indent = " " * draw(st.integers(0, 3))
    lines = list(container.opening)
    blank: bool = draw(st.booleans())  # between the item's text and the fence
    if lines and blank:
        lines.append("")
    opening = len(lines)
    lines.append(f"{container.prefix}{indent}{char * length}{info}")
    for text in code:
        lines.append(f"{container.prefix}{indent}{text}" if text else container.blank)
    lines.append(f"{container.prefix}{close_indent}{closing}")
    closing_index = len(lines) - 1
    if container.opening:  # end the list: an indented fence after it would belong to it
        lines += ["", "After the list."]
    content = "".join(f"{text}\n" for text in code)
    return lines, opening, closing_index, Expected(0, 0, info, content)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[Expected]]:
    """Markdown and the fences in it, in order."""
    lines: list[str] = []
    expected: list[Expected] = []
    if draw(st.booleans()):
        title = json.dumps(draw(WORDS))  # JSON is YAML: any title parses
        lines += ["---", "id: lesson", f"title: {title}", "---"]
    pieces = st.sampled_from(["fence", "fence", "prose", "heading", "comment", "indented"])
    for piece in draw(st.lists(pieces, max_size=8)):
        if lines:
            lines.append("")
        if piece == "fence":
            block, opening, closing, fence = draw(fences())
            line = len(lines) + opening + 1
            end = len(lines) + closing + 1
            expected.append(Expected(line, end, fence.info, fence.code))
            lines += block
        elif piece == "prose":
            lines += draw(st.lists(WORDS, min_size=1, max_size=3))
        elif piece == "heading":
            lines.append(f"{'#' * draw(st.integers(1, 3))} {draw(WORDS)}")
        elif piece == "comment":  # a plain HTML comment: a fence in it is commented out
            lines += ["<!--", draw(WORDS), "```python", "x = 1", "```", "-->"]
        else:  # indented code, after a paragraph so that it cannot belong to a list above
            lines += ["Code as text:", "", "    ```python", "    x = 1", "    ```"]
    return "".join(f"{text}\n" for text in lines), expected


@SETTINGS
@given(documents())
@example(("```python\n```\n", [Expected(1, 2, "python", "")]))
@example(("- a\n\n  ```py\n  x = 1\n  ```\n", [Expected(3, 5, "py", "x = 1\n")]))
@example(("```python\n0\n:\n```\n", [Expected(1, 4, "python", "0\n:\n")]))  # not an output
def test_fences_are_found_where_they_were_written(
    document: tuple[str, list[Expected]],
) -> None:
    source, expected = document
    lesson = parse_lesson(source, "random.md")
    found = [Expected(f.line, f.end_line, f.info, f.code) for f in lesson.fences]
    assert found == expected
    lines = source.split("\n")
    for fence in lesson.fences:
        assert re.match(r"[ >\-1.]*(```|~~~)", lines[fence.line - 1])
        assert fence.code_line == fence.line + 1


MARKDOWN = [
    "```python\nx = 1\n```",
    "~~~py\ny = 2\n~~~",
    "```",
    "~~~",
    "````bash",
    "- ",
    "  ",
    "1. ",
    "> ",
    "---",
    "---\ntitle: x\n---",
    "<!--",
    "-->",
    "<!-- note -->",
    '<!-- harness: skip "no reason" -->',
    "<!-- harness: skp -->",
    "<!-- harness: time-limit 5 -->",
    "<!-- harness: hidden\n```python\nz = 3\n```\n-->",
    "    ",
    "\t",
    "# ",
    ">>> 1 + 1\n2",
    "\r\n",
    "\r",
]


@st.composite
def noise(draw: st.DrawFn) -> str:
    parts = st.one_of(st.sampled_from(MARKDOWN), st.text(max_size=20))
    separators = st.sampled_from(["\n", "\n\n", "", " ", "\r\n"])
    return "".join(draw(parts) + draw(separators) for _ in range(draw(st.integers(0, 12))))


def markdown_lines(source: str) -> list[str]:
    """Lines as markdown-it counts them: only \\n, \\r\\n and \\r end a line."""
    return re.split(r"\r\n|\r|\n", source)


@SETTINGS
@given(noise())
def test_random_markdown_never_crashes_the_parser(source: str) -> None:
    try:
        lesson = parse_lesson(source, "noise.md")
    except LessonError as error:
        assert "\n" not in str(error)
        assert str(error).startswith("noise.md:")
        return
    lines = markdown_lines(source)
    for fence in lesson.fences:
        assert 1 <= fence.line <= fence.end_line <= len(lines)
        assert "```" in lines[fence.line - 1] or "~~~" in lines[fence.line - 1]


LINE_SEPARATORS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", LINE_SEPARATORS, ids=[hex(ord(c)) for c in LINE_SEPARATORS])
def test_unicode_line_separators_in_prose_do_not_move_fences(separator: str) -> None:
    source = f"# Title\n\nProse with a{separator}character.\n\n```python\nx = 1\n```\n"
    (fence,) = parse_lesson(source, "sep.md").fences
    assert (fence.line, fence.end_line, fence.code) == (5, 7, "x = 1\n")
