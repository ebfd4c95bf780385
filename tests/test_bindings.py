"""Symbolic dimensions that bind (issue 13, item 11): a claim that disagrees with a binding
names the line and the value the binding came from; the odd one out among claims that agree
is the one that fails. ``tests/samples/claims/bindings.md`` holds each case."""

from __future__ import annotations

import pytest

from harness.claims.kinds.bindings import Scope, Vote
from harness.lesson import read_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.paths import SAMPLES

SAMPLE = SAMPLES / "claims" / "bindings.md"
AGREE = [9, 10, 11, 39, 40]  # every claim agrees
ODD_FIRST, AFTER_ODD = 17, [18, 19]  # the first binding is the odd one out
BOUND, AGAINST = 25, 26  # one claim against one binding
ODD_IN_CALL, AFTER_ODD_IN_CALL = 33, [34, 35]


@pytest.fixture(scope="module")
def result() -> LessonResult:
    return check_lesson(read_lesson(SAMPLE), ["cpu"])


def _verdict(result: LessonResult, line: int) -> str:
    return result.verdicts[line]["cpu"].verdict


def test_claims_that_agree_pass(result: LessonResult) -> None:
    lines = [*AGREE, *AFTER_ODD, BOUND, *AFTER_ODD_IN_CALL]
    assert {line: _verdict(result, line) for line in lines} == dict.fromkeys(lines, "passed")


def test_only_the_odd_ones_out_fail(result: LessonResult) -> None:
    failed = sorted(line for line, per in result.verdicts.items() if per["cpu"].verdict == "failed")
    assert failed == [ODD_FIRST, AGAINST, ODD_IN_CALL]


def test_the_odd_one_out_names_the_binding_it_disagrees_with(result: LessonResult) -> None:
    message = result.verdicts[ODD_FIRST]["cpu"].message
    assert message == (
        "expected [B, T, d_model], found [2, 3, 4]: dim 2 is d_model = 8 (bound at line 18 "
        "from b.shape, as line 19 also says), found 4; bindings: B=2, T=3, d_model=8"
    )


def test_a_later_claim_against_one_binding_names_its_line_and_source(
    result: LessonResult,
) -> None:
    (failure,) = [f for f in result.failures() if f":{AGAINST}:" in f]
    assert failure == (
        f"{SAMPLE}:{AGAINST}: [cpu] q: expected [N, hidden], found [5, 12]: dim 1 is hidden = "
        "16 (bound at line 25 from p.shape), found 12; bindings: N=5, hidden=16"
    )


def test_in_a_function_the_odd_one_out_fails_with_the_call_site(result: LessonResult) -> None:
    message = result.verdicts[ODD_IN_CALL]["cpu"].message
    assert "dim 1 is d = 4 (bound at line 34 from second.shape, as line 35 also says)" in message
    assert message.endswith("(in the call from line 43)")


def test_the_majority_counts_lines_and_a_tie_keeps_the_first_binding() -> None:
    scope = Scope()
    scope.vote("n", Vote(1, 3, "x.shape"))
    scope.vote("n", Vote(2, 4, "y.shape"))
    assert scope.majority("n") == (3, "bound at line 1 from x.shape")
    for _ in range(5):  # one line in a loop is one voice
        scope.vote("n", Vote(2, 4, "y.shape"))
    assert scope.majority("n") == (3, "bound at line 1 from x.shape")
    scope.vote("n", Vote(5, 4, "z.shape"))
    assert scope.majority("n") == (4, "bound at line 2 from y.shape, as line 5 also says")
    for line in range(6, 10):
        scope.vote("n", Vote(line, 4, "z.shape"))
    assert scope.majority("n") == (
        4,
        "bound at line 2 from y.shape, as lines 5, 6, 7 and 2 more also say",
    )
    assert scope.majority("m") is None
