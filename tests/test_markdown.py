"""The one markdown configuration (harness.lesson.markdown): what it reads, and that a lesson's
fences are exactly the fence tokens of its one parse (``Lesson.tokens``, ``Fence.token``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lesson import (
    Lesson,
    LessonError,
    make_markdown,
    markdown_parser,
    parse_lesson,
    unwrap_admonitions,
)
from tests.paths import LESSON, SAMPLES

DIV = (
    "# Raw HTML\n"
    "\n"
    "<div>\n"
    "```python\n"
    "hidden_in_html = 1\n"
    "```\n"
    "</div>\n"
    "\n"
    "```python\n"
    "a_block = 2\n"
    "```\n"
)


def _all_lessons() -> list[Lesson]:
    found = []
    for path in [LESSON, *sorted(SAMPLES.rglob("*.md"))]:
        try:
            found.append(parse_lesson(Path(path).read_text(encoding="utf-8"), str(path)))
        except (LessonError, UnicodeDecodeError):
            continue
    return found


def test_one_configuration_shared_and_fresh_copies_alike() -> None:
    shared = markdown_parser()
    assert markdown_parser() is shared  # built once
    fresh = make_markdown()
    assert fresh is not shared
    assert fresh.options["html"] and shared.options["html"]  # raw HTML read as GitHub does
    for chain in ("block", "inline", "core"):
        rules = getattr(shared, chain).ruler.get_active_rules()
        assert getattr(fresh, chain).ruler.get_active_rules() == rules


def test_tables_front_matter_and_heading_anchors_are_parsed() -> None:
    text = "---\ntitle: T\n---\n\n# A Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### Step two\n"
    tokens = markdown_parser().parse(text)
    types = [t.type for t in tokens]
    assert types[0] == "front_matter"
    assert "table_open" in types and "td_open" in types
    headings = [t for t in tokens if t.type == "heading_open"]
    assert [t.attrGet("id") for t in headings] == ["a-title", "step-two"]


def test_a_fence_right_after_a_div_is_raw_html_for_the_lesson_and_its_tokens() -> None:
    lesson = parse_lesson(DIV, "div.md")
    assert [f.line for f in lesson.fences] == [9]  # the first fence is inside the HTML block
    fences = [t for t in lesson.tokens if t.type == "fence"]
    html = [t for t in lesson.tokens if t.type == "html_block"]
    assert [t.map[0] + 1 for t in fences if t.map] == [f.line for f in lesson.fences]
    assert len(html) == 1 and "hidden_in_html" in html[0].content
    assert [t.type for t in markdown_parser().parse(DIV)] == [t.type for t in lesson.tokens]
    (fence,) = lesson.fences
    assert fence.token is not None and lesson.tokens[fence.token] is fences[0]


@pytest.mark.parametrize("lesson", _all_lessons(), ids=lambda lesson: Path(lesson.path).name)
def test_every_fence_rides_on_its_token(lesson: Lesson) -> None:
    shown = [f for f in lesson.fences if not f.hidden]
    for fence in shown:
        assert fence.token is not None
        token = lesson.tokens[fence.token]
        assert token.type == "fence" and token.map is not None
        assert (token.map[0] + 1, token.map[1], token.info) == (
            fence.line,
            fence.end_line,
            fence.info,
        )
    for fence in lesson.fences:
        if fence.hidden:
            assert fence.token is None
    tokens = [i for i, t in enumerate(lesson.tokens) if t.type == "fence"]
    assert [f.token for f in shown] == tokens  # every fence token is a fence, in order


def test_the_lesson_keeps_the_tokens_of_its_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[str] = []
    parser = markdown_parser()
    parse = parser.parse

    def counting(text: str, env: object = None) -> object:
        parses.append(text)
        return parse(text, env)  # type: ignore[arg-type]

    monkeypatch.setattr(parser, "parse", counting)
    lesson = parse_lesson(LESSON.read_text(encoding="utf-8"), "dl.md")
    assert len(lesson.tokens) > 100
    assert len(parses) == 1  # reading parsed once, and the tokens are that parse's
    by_hand = Lesson(lesson.path, lesson.id, lesson.title, lesson.source, lesson.fences)
    assert [t.type for t in by_hand.tokens] == [t.type for t in lesson.tokens]
    assert len(parses) == 2  # a Lesson made by hand parses on first use of its tokens
    assert by_hand == lesson and hash(by_hand) == hash(lesson)  # tokens are not compared


def test_tokens_are_of_the_text_with_admonition_bodies_moved_out() -> None:
    text = (SAMPLES / "formats" / "admonitions.md").read_text(encoding="utf-8")
    lesson = parse_lesson(text, "admonitions.md")
    again = markdown_parser().parse(unwrap_admonitions(text))
    assert [(t.type, t.map) for t in lesson.tokens] == [(t.type, t.map) for t in again]
