"""Lesson formats of real courses (issue 13, items 1-6), end to end on tests/samples/formats/:
each right sample passes, each wrong one fails at the line of its wrong claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lesson import parse_lesson, read_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.lessons import failed_blocks, failed_claims, harness_check
from tests.paths import ROOT

SAMPLES = ROOT / "tests" / "samples" / "formats"


def run(name: str, tab: str | None = None) -> LessonResult:
    return check_lesson(read_lesson(SAMPLES / name, tab), ["cpu"])


def verdicts(result: LessonResult) -> dict[int, str]:
    return {line: per["cpu"].verdict for line, per in result.verdicts.items()}


def test_d2l_tabs_run_the_pytorch_tab_and_skip_the_others_with_why() -> None:
    result = run("d2l_tabs.md")
    status = {line: per["cpu"] for line, per in result.blocks.items()}
    assert [line for line, s in status.items() if s.status == "passed"] == [13, 26, 32]
    assert status[8].status == "skipped"
    assert "%%tab mxnet: a block for mxnet readers, not for pytorch" in status[8].reason
    assert "tensorflow and jax readers" in status[19].reason
    assert "d2lbook's tab machinery" in status[1].reason
    assert verdicts(result) == {35: "passed", 40: "not-run"}


def test_d2l_wrong_claim_in_the_pytorch_tab_fails_at_its_line() -> None:
    result = run("d2l_tabs_wrong.md")
    assert failed_claims(result) == [35]
    assert failed_blocks(result) == [32]


def test_another_tab_is_picked_by_name() -> None:
    lesson = read_lesson(SAMPLES / "d2l_tabs.md", "mxnet")
    skipped = {f.line for f in lesson.python_fences if f.directives.skip is not None}
    assert skipped == {1, 13, 19}


def test_tab_option_on_the_command_line() -> None:
    done = harness_check(
        str(SAMPLES / "d2l_tabs.md"), "--devices", "cpu", "--no-cache", "--tab", "bogus name"
    )
    assert done.returncode == 2 and "argument --tab" in done.stderr


def test_magics_are_never_run_in_any_fence() -> None:
    text = "```python\n%matplotlib inline\n!pip install x\nx = 5 % 3\ny = (x\n  % 2)\n```\n"
    (fence,) = parse_lesson(text, "m.md").fences
    assert fence.code == "\n\nx = 5 % 3\ny = (x\n  % 2)\n"
    text = "```python\n%%bash\nls\n```\n"
    (fence,) = parse_lesson(text, "m.md").fences
    assert fence.directives.skip is not None and "%%bash" in fence.directives.skip


def test_console_sessions_that_start_with_comments_check_outputs_and_exceptions() -> None:
    result = run("console_comments.md")
    assert verdicts(result) == {10: "passed", 14: "passed", 20: "passed", 24: "passed"}
    assert not failed_blocks(result)


def test_wrong_console_outputs_and_exceptions_fail_at_their_lines() -> None:
    result = run("console_comments_wrong.md")
    assert failed_claims(result) == [8, 14, 22]
    messages = {line: per["cpu"].message for line, per in result.verdicts.items()}
    assert "expected RuntimeError to be raised, but the statement raised nothing" in messages[14]
    assert "expected TypeError to be raised, got ValueError" in messages[22]
    assert verdicts(result)[24] == "passed"  # the session goes on after the exception


def test_outputs_written_in_blocks_are_claims() -> None:
    result = run("outputs_in_blocks.md")
    assert verdicts(result)[10] == "passed"  # MyST ': ' output of an expression
    assert verdicts(result)[22] == "passed"  # output pasted after print(...)
    assert not failed_blocks(result)
    wrong = run("outputs_in_blocks_wrong.md")
    assert failed_claims(wrong) == [10, 22]


def test_random_outputs_of_an_unseeded_lesson_are_unchecked_not_failed() -> None:
    result = run("outputs_random.md")
    (verdict,) = [per["cpu"] for per in result.verdicts.values()]
    assert verdict.verdict == "unchecked" and "without a seed" in verdict.message


def test_code_after_a_print_stays_code() -> None:
    text = "```python\nprint(1)\nz = [1, 2]\nprint(z)\nlen(z)\n```\n"
    (fence,) = parse_lesson(text, "c.md").fences
    assert fence.examples == () and "z = [1, 2]" in fence.code


MYST_THEN_CODE = """\
```python
import torch
x = 1
torch.ones(2, 3).view(4)
: RuntimeError: shape '[4]' is invalid for input of size 6
x = 2
```

```python
print(x)  # prints: 2
```
"""


def test_a_statement_right_after_a_myst_output_is_code_that_runs() -> None:
    """``x = 2`` after a ``: `` output line was read as more output: never run, while the
    block passed (and a later block met x == 1)."""
    lesson = parse_lesson(MYST_THEN_CODE, "m.md")
    first = lesson.python_fences[0]
    assert first.code.split("\n")[4] == "x = 2"  # line 6 of the lesson
    ((example),) = first.examples
    assert example.want == "RuntimeError: shape '[4]' is invalid for input of size 6\n"
    result = check_lesson(lesson, ["cpu"])
    assert {line: per["cpu"].verdict for line, per in result.verdicts.items()} == {
        5: "passed",
        10: "passed",
    }


@pytest.mark.parametrize("name", ["front_matter_quote.md", "front_matter_quote_wrong.md"])
def test_front_matter_that_is_not_yaml_is_a_warning_and_the_lesson_runs(name: str) -> None:
    # -v: [info] lines are shown one by one (issue 15 item 1: a count without it)
    done = harness_check(f"tests/samples/formats/{name}", "--devices", "cpu", "--no-cache", "-v")
    shown = str(Path("tests/samples/formats") / name)
    assert (
        f"{shown}:2: [info] front matter is not valid YAML: expected <block end>, but found "
        "'<scalar>'; the id comes from the file name" in done.stdout
    )
    if name.endswith("_wrong.md"):
        assert done.returncode == 1
        assert f"{shown}:9: [cpu] x: expected [3, 2], found [2, 3]" in done.stdout
    else:
        assert done.returncode == 0, done.stdout + done.stderr


def test_fences_in_admonitions_tabs_and_lists_are_blocks_at_their_lines() -> None:
    lesson = read_lesson(SAMPLES / "admonitions.md")
    assert [(f.line, f.code.split("\n")[0]) for f in lesson.python_fences] == [
        (6, "import torch"),
        (12, "y = x.t()  # [3, 2]"),
        (18, "z = x.flatten()  # [6]"),
        (24, "w = x.unsqueeze(0)  # [1, 2, 3]"),
    ]
    assert verdicts(run("admonitions.md")) == {
        8: "passed",
        13: "passed",
        19: "passed",
        25: "passed",
    }
    assert failed_claims(run("admonitions_wrong.md")) == [13, 19]


def test_admonition_markers_inside_fences_and_prose_change_nothing() -> None:
    text = "```text\n!!! note\n    ```python\n    x = 1\n    ```\n```\n\nSay `!!! note`.\n"
    (fence,) = parse_lesson(text, "a.md").fences
    assert (fence.language, fence.end_line) == ("text", 6)


def test_older_d2l_tab_comments_and_notebook_cells_are_read() -> None:
    text = (
        "```{.python .input}\n#@tab mxnet\nx = 1\n```\n\n"
        "```{code-cell} ipython3\n%matplotlib inline\ny = 2\n```\n\n"
        "``` python\nz = 3\n```\n"
    )
    first, cell, spaced = parse_lesson(text, "n.md", "pytorch").fences
    assert first.directives.skip is not None and "mxnet" in first.directives.skip
    assert (cell.language, cell.code) == ("ipython3", "\ny = 2\n")
    assert (spaced.language, spaced.code) == ("python", "z = 3\n")
