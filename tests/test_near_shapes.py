"""A comment that is nearly a shape is prose, and --coverage says what was probably meant
(issue 15 item 3): ``did you mean `[3, 2]`?`` under the prose line, at its line."""

from __future__ import annotations

import pytest

from harness.claims.near_shapes import near_shape
from tests.lessons import harness_check
from tests.paths import ROOT

SAMPLE = ROOT / "tests" / "samples" / "claims" / "near_shapes.md"


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("[3 2]", "[3, 2]"),
        ("[3, 2", "[3, 2]"),
        ("(3; 2)", "(3, 2)"),
        ("[3, 2]]", "[3, 2]"),
        ("32x14x14", "[32, 14, 14]"),
        ("shape: [B T]", "[B, T]"),
    ],
)
def test_a_near_shape_says_what_it_nearly_is(text: str, meant: str) -> None:
    assert near_shape(text).startswith(f"did you mean `{meant}`? (")


@pytest.mark.parametrize(
    "text",
    [
        "(1, 1) means batch size and channels are both 1",
        "[0, 1, 2, ..., 11] - 12 elements",
        "see [1] for details",
        "3x faster",
        "tensor([1, 2 3])",
        "[3, 2]",  # a shape: not prose at all
    ],
)
def test_prose_that_mentions_brackets_gets_no_hint(text: str) -> None:
    assert near_shape(text) == ""


def test_coverage_prints_the_hint_under_its_prose_line() -> None:
    done = harness_check(str(SAMPLE), "--devices", "cpu", "--no-cache", "--coverage")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    path = str(SAMPLE)
    for line, meant in ((7, "[3, 2]"), (8, "[3, 2]"), (9, "(3, 2)"), (10, "[3, 2]")):
        prose = lines.index(next(x for x in lines if x.startswith(f"{path}:{line}: prose: ")))
        assert lines[prose + 1].startswith(f"{path}:{line}: did you mean `{meant}`? (")
    assert f"{path}:11: did you mean `[32, 14, 14]`?" in done.stdout
    for quiet in (13, 14):  # prose that only mentions brackets
        assert not any(x.startswith(f"{path}:{quiet}: did you mean") for x in lines)
    assert "claims: 1 passed, 0 failed" in lines[-1]  # line 12 is the only claim


def test_without_coverage_no_hint_is_printed() -> None:
    done = harness_check(str(SAMPLE), "--devices", "cpu", "--no-cache")
    assert "did you mean" not in done.stdout
