"""Hints for author mistakes (issue 15 item 3, harness.lesson.hints): a directive written inside
its block is a warning at its line with a ``did you mean``, and the lesson is checked as
written; a directive separated from its fence by prose is an error that names the fence."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lesson import LessonError, parse_lesson, read_lesson
from harness.run.runner import check_lesson
from tests.lessons import harness_check
from tests.paths import SAMPLES

FORMATS = SAMPLES / "formats"


def test_directives_before_their_blocks_give_no_hint() -> None:
    lesson = read_lesson(FORMATS / "directives.md")
    assert lesson.warnings == ()
    skip, raises, plain = lesson.python_fences
    assert skip.directives.skip == "downloads a dataset"
    assert raises.directives.raises == "ValueError"
    assert not plain.directives


def test_a_directive_inside_its_block_is_a_warning_at_its_line_with_did_you_mean() -> None:
    lesson = read_lesson(FORMATS / "directives_wrong.md")
    assert [(line, kind) for line, kind, _ in lesson.warnings] == [
        (6, "directive inside the block"),
        (13, "directive inside the block"),
    ]
    comment, html = (message for _, _, message in lesson.warnings)
    assert comment.startswith(
        "'# harness: skip \"downloads a dataset\"' is written inside the block at line 5, "
        "where it is a Python comment the harness does not read (the block runs); "
    )
    assert comment.endswith(
        'did you mean <!-- harness: skip "downloads a dataset" --> on its own line just '
        "before the fence at line 5?"
    )
    assert "where it is not Python (the block fails with a SyntaxError)" in html
    assert html.endswith(
        "did you mean <!-- harness: raises ValueError --> on its own line just before the "
        "fence at line 12?"
    )
    assert all("\n" not in message for _, _, message in lesson.warnings)


def test_the_lesson_with_a_misplaced_directive_is_still_checked_as_written() -> None:
    lesson = read_lesson(FORMATS / "directives_wrong.md")
    assert not any(fence.directives for fence in lesson.fences)  # nothing applied
    assert lesson.python_fences[0].code.startswith('# harness: skip "downloads a dataset"\n')
    result = check_lesson(lesson, ["cpu"])
    status = {line: per["cpu"] for line, per in result.blocks.items()}
    assert status[5].status == "failed" and status[5].error is not None
    assert status[5].error.type == "RuntimeError"  # it ran: the comment skipped nothing
    assert status[12].status == "failed" and status[12].error is not None
    assert status[12].error.type == "SyntaxError"
    assert status[17].status == "passed"
    notes = [(note.line, note.kind) for note in result.notes]
    assert (6, "directive inside the block") in notes  # shown with the lesson's notes
    assert (13, "directive inside the block") in notes


@pytest.mark.parametrize(
    ("line", "hinted"),
    [
        ("# harness: skip", '<!-- harness: skip "why" -->'),  # a bad one: its usage
        ("    #harness:time-limit 5", "<!-- harness: time-limit 5 -->"),
        ('<!-- harness: replace "a" "b" -->', '<!-- harness: replace "a" "b" -->'),
    ],
)
def test_the_hint_gives_a_directive_that_works(line: str, hinted: str) -> None:
    text = f"# T\n\n```python\nx = 1\n{line}\n```\n"
    ((at, _, message),) = parse_lesson(text, "h.md").warnings
    assert at == 5
    assert f"did you mean {hinted} on its own line just before the fence at line 3?" in message


@pytest.mark.parametrize(
    "line",
    [
        "# harness: the tool that runs this lesson",  # prose about the harness
        "# harness: hidden",  # a hidden block holds its own fence
        "x = '<!-- harness: skip \"a\" -->'",  # in a string, not a line of its own
        "# see harness:skip",
    ],
)
def test_comments_that_are_no_directive_give_no_hint(line: str) -> None:
    text = f"```python\n{line}\n```\n"
    assert parse_lesson(text, "h.md").warnings == ()


def test_no_hint_when_the_directive_is_already_before_the_fence() -> None:
    text = '<!-- harness: skip "slow" -->\n```python\n# harness: skip "slow"\nx = 1\n```\n'
    lesson = parse_lesson(text, "h.md")
    assert lesson.warnings == () and lesson.fences[0].directives.skip == "slow"


def test_no_hint_for_other_languages() -> None:
    text = '```bash\n# harness: skip "x"\necho hi\n```\n\n```python\nx = 1\n```\n'
    assert parse_lesson(text, "h.md").warnings == ()


def test_a_directive_separated_from_its_fence_by_prose_names_the_fence() -> None:
    text = '# T\n\n<!-- harness: skip "why" -->\n\nSome prose.\n\n```python\nx = 1\n```\n'
    with pytest.raises(LessonError) as caught:
        parse_lesson(text, "d.md")
    message = str(caught.value)
    assert message.startswith("d.md:3: the directive is not followed by a code block (found ")
    assert message.endswith(
        "paragraph); did you mean it for the fence at line 7? The paragraph at line 5 stands "
        "between them: move the directive just before that fence"
    )
    assert "\n" not in message
    alone = "# T\n\n<!-- harness: raises KeyError -->\n\nProse.\n"
    with pytest.raises(LessonError) as caught:
        parse_lesson(alone, "d.md")
    assert (
        str(caught.value)
        == "d.md:3: the directive is not followed by a code block (found paragraph)"
    )


def test_the_hint_is_said_at_path_and_line_on_the_terminal() -> None:
    done = harness_check("tests/samples/formats/directives_wrong.md", "--devices", "cpu", "-v")
    shown = str(Path("tests/samples/formats") / "directives_wrong.md")
    assert done.returncode == 1  # checked as written: its first two blocks fail
    assert (
        f"{shown}:6: [info] directive inside the block: '# harness: skip \"downloads a "
        "dataset\"' is written inside the block at line 5" in done.stdout
    )
    assert f"{shown}:13: [info] directive inside the block: '<!-- harness: raises" in done.stdout
