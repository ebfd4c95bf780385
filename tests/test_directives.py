"""Directives for authors: HTML comments before a fence, parsed strictly and obeyed."""

from __future__ import annotations

import pytest

from harness.lesson import parse_lesson, read_lesson
from harness.lesson.errors import LessonError
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.paths import SAMPLES

SAMPLE = SAMPLES / "claims" / "directives.md"


def test_directives_attach_to_the_next_fence() -> None:
    lesson = read_lesson(SAMPLE)
    by_line = {f.line: f for f in lesson.python_fences}
    assert by_line[8].directives.skip == "downloads a dataset"
    assert by_line[14].directives.raises == "ZeroDivisionError"
    assert by_line[30].directives.time_limit == 20.0 and by_line[30].time_limit == 20.0
    assert by_line[30].directives.replacements == ((28, "epochs = 500", "epochs = 2"),)
    assert "epochs = 2\n" in by_line[30].code  # what runs; the article still says 500
    assert by_line[39].hidden and not by_line[45].hidden
    assert not by_line[45].directives  # a directive applies to one fence only


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        (
            '<!-- harness: skp "why" -->',
            "d.md:3: unknown directive 'skp' (known: skip, raises, time-limit, replace, "
            "hidden); did you mean 'skip'?",
        ),
        (
            "<!-- harness: skip -->",
            'd.md:3: skip: expected one quoted reason: write <!-- harness: skip "why" -->',
        ),
        ("<!-- harness: raises -->", "d.md:3: raises: expected one exception type, got nothing"),
        (
            "<!-- harness: time-limit soon -->",
            "d.md:3: time-limit: expected seconds above 0 and at most 604800 (a week), got soon",
        ),
        (
            "<!-- harness: time-limit -5 -->",
            "d.md:3: time-limit: expected seconds above 0 and at most 604800 (a week), got -5",
        ),
        *(
            (
                f"<!-- harness: time-limit {bad} -->",
                "d.md:3: time-limit: expected seconds above 0 and at most 604800 (a week), "
                f"got {bad}",
            )
            for bad in ("nan", "inf", "-inf", "0", "1e999", "604801", "1e9")
        ),
        ('<!-- harness: replace "a" -->', "d.md:3: replace: expected two quoted texts, got 1"),
        (
            '<!-- harness: replace "nowhere" "x" -->',
            "d.md:3: replace: 'nowhere' is not in the block at line 4",
        ),
        ('<!-- harness: skip "unclosed -->', "d.md:3: skip: No closing quotation"),
    ],
)
def test_a_bad_directive_is_an_error_at_its_line(comment: str, message: str) -> None:
    text = f"# T\n\n{comment}\n```python\nx = 1\n```\n"
    with pytest.raises(LessonError) as caught:
        parse_lesson(text, "d.md")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_directive_must_stand_before_a_fence() -> None:
    text = '# T\n\n<!-- harness: skip "why" -->\n\nSome prose.\n\n```python\nx = 1\n```\n'
    with pytest.raises(LessonError, match=r"^d\.md:3: the directive is not followed by a code"):
        parse_lesson(text, "d.md")
    with pytest.raises(LessonError, match=r"^d\.md:3: the directive is not followed by a code"):
        parse_lesson("# T\n\n<!-- harness: raises KeyError -->\n", "d.md")


def test_a_directive_twice_and_ordinary_comments() -> None:
    twice = "<!-- harness: time-limit 1 -->\n<!-- harness: time-limit 2 -->\n```python\nx=1\n```\n"
    with pytest.raises(LessonError, match=r"^d\.md:2: time-limit is given twice"):
        parse_lesson(twice, "d.md")
    plain = "<!-- an ordinary comment -->\n```python\nx = 1\n```\n"
    (fence,) = parse_lesson(plain, "d.md").python_fences
    assert not fence.directives


def test_a_hidden_directive_without_code_is_an_error() -> None:
    with pytest.raises(LessonError, match=r"^d\.md:1: a hidden directive holds no Python"):
        parse_lesson("<!-- harness: hidden\nnothing here\n-->\n", "d.md")


@pytest.fixture(scope="module")
def result() -> LessonResult:
    return check_lesson(read_lesson(SAMPLE), ["cpu"])


def test_directives_are_obeyed_when_the_lesson_runs(result: LessonResult) -> None:
    status = {line: per["cpu"] for line, per in result.blocks.items()}
    assert status[8].status == "skipped"
    assert status[8].reason == "skipped by the directive at line 7: downloads a dataset"
    assert status[14].status == "passed"
    assert status[14].reason == "raised ZeroDivisionError as the directive at line 13 expects"
    assert status[19].status == "passed"  # a KeyError is a LookupError
    assert status[30].stdout == "2\n"  # replace: two epochs, not five hundred
    assert status[39].status == "passed"  # the hidden block ran, and its assert held
    assert status[45].stdout == "42\n"  # a later block sees what the hidden one defined


def test_an_expected_exception_that_never_comes_fails(result: LessonResult) -> None:
    assert result.blocks[24]["cpu"].status == "failed"
    assert result.failures() == [
        f"{SAMPLE}:23: [cpu] ExpectedException: expected "
        "ValueError (directive at line 23), got no exception"
    ]


def test_a_different_exception_than_expected_fails() -> None:
    text = "<!-- harness: raises KeyError -->\n```python\nx = 1 / 0\n```\n"
    result = check_lesson(parse_lesson(text, "d.md"), ["cpu"])
    (failure,) = result.failures()
    assert failure == (
        "d.md:3: [cpu] ZeroDivisionError: expected KeyError (directive at line 1), "
        "got ZeroDivisionError: division by zero"
    )


def test_a_directive_sharing_its_html_block_is_an_error_not_ignored() -> None:
    text = '<details>\n<!-- harness: skip "why" -->\n```python\nx = 1\n```\n'
    with pytest.raises(LessonError, match=r"^d\.md:1: a directive must be an HTML comment"):
        parse_lesson(text, "d.md")
