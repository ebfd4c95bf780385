"""Printed values, labelled shapes and counts, transitions, prose (issue 13, items 8-10, 12).

Each sample in ``tests/samples/printed/`` holds claims twice, once true and once false, and
comments that stay prose; every false claim fails at its line with what it claimed and found.
"""

from __future__ import annotations

import pytest

from harness.claims import looks_like_output, read_comments, read_shape_comment
from harness.claims.output_match import output_matches
from harness.lesson import parse_lesson, read_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.paths import SAMPLES

FOLDER = SAMPLES / "printed"
# sample -> (lines that pass, lines that fail -> the start of their message, unchecked, prose)
EXPECTED: dict[str, tuple[list[int], dict[int, str], list[int], list[int]]] = {
    "printed": (
        [13, 16, 20, 22, 24, 26, 28, 30, 38, 42, 47, 56, 61, 72, 81, 84],
        {
            14: "print(x.ndim): expected 4, found 3",
            17: "print(t): expected tensor([1, 4, 10]), found tensor([1, 4, 9])",
            21: "print(torch.equal(a, b + 1)): expected True, found False",
            23: "print(x.dtype): expected torch.int64, found torch.float32",
            25: "t.sum(): expected tensor(15), found tensor(14)",
            27: "print(t.tolist()): expected [1, 4, 8], found [1, 4, 9]",
            29: "print(a / 3): expected tensor([0.33, 0.76]), found tensor([0.3333, 0.6667])",
            31: "print(torch.arange(12)): expected tensor([1, 2, ..., 11]), found tensor([ 0, 1,",
            40: "print(a * 3): expected tensor([3.3333, 6.6667]), found tensor([3., 6.])",
            44: "print(a - 1): expected tensor([1., 2.]), found tensor([0., 1.])",
            51: "print(m.T): expected tensor([[1, 2], [3, 4]]), found tensor([[1, 3], [2, 4]])",
            73: "print(seeded): expected tensor([0.4963, 0.7682, 0.0886]), found tensor([0.4963,",
        },
        [69],
        [79, 80, 83],
    ),
    "labelled": (
        [13, 15, 19, 23, 45, 48, 51, 68, 69],
        {
            14: "x2: expected [3], found [4]: dim 0 is 3, found 4",
            16: "y2: expected 2 dimensions [B, T], found 3: [2, 5, 1]",
            21: "z.T.shape: expected [2, 3], found [3, 2]",
            25: "w2: expected [2, 3], found [3, 2]",
            47: "the last module: expected 2,359,296 parameters (exactly), got 2,362,368 "
            "parameters; the biases (3,072) make the difference: the claim leaves them out (mha)",
            49: "tiny: expected 2.4M parameters (at the written precision), got 264 parameters",
            53: "the last module: expected 2.4M parameters (at the written precision), got 264 "
            "parameters (tiny)",
            74: "x: expected 2 dimensions [B, T], found 3: [2, 3, 4] (in the call from line 80)",
        },
        [],
        [59, 60, 61, 75],
    ),
    "transitions": (
        [15, 18, 22, 24, 44, 46, 49, 50, 55],
        {
            16: "x: after line 16: expected [B, 8, 48], found [4, 8, 49]",
            19: "flat2: before line 19: expected [B, 8, 6, 7], found [4, 8, 7, 7]",
            23: "d: result: expected [2, 5], found [2, 4]",
            26: "f: right operand: expected [4, 4], found [3, 4]",
            57: "returned value: expected 2 dimensions [batch, d_model], found 3: [2, 5, 16]",
            59: "h: after line 59: expected 2 dimensions [B, C], found 3: [2, 5, 16]",
        },
        [],
        [],
    ),
    "prose": ([15, 18, 33, 35, 50], {}, [25, 26, 42], [12, 13, 20, 21, 22, 23, 24, 48]),
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def checked(request: pytest.FixtureRequest) -> tuple[str, LessonResult]:
    name = str(request.param)
    return name, check_lesson(read_lesson(FOLDER / f"{name}.md"), ["cpu"])


def test_every_claim_has_its_verdict_and_prose_stays_prose(
    checked: tuple[str, LessonResult],
) -> None:
    name, result = checked
    passed, failed, unchecked, prose = EXPECTED[name]
    verdicts = {claim.line: result.verdicts[claim.line]["cpu"].verdict for claim in result.claims}
    want = {
        **dict.fromkeys(passed, "passed"),
        **dict.fromkeys(failed, "failed"),
        **dict.fromkeys(unchecked, "unchecked"),
    }
    assert verdicts == want
    assert [comment.line for comment in result.prose] == prose


def test_every_false_claim_fails_at_its_line_with_claimed_and_found(
    checked: tuple[str, LessonResult],
) -> None:
    name, result = checked
    failures = {int(text.split(":")[1]): text for text in result.failures()}
    failures = {line: text for line, text in failures.items() if line in EXPECTED[name][1]}
    assert set(failures) == set(EXPECTED[name][1])
    for line, said in EXPECTED[name][1].items():
        assert failures[line].startswith(f"{FOLDER / name}.md:{line}: [cpu] {said}")


def test_random_values_without_a_seed_are_unchecked_with_why() -> None:
    result = check_lesson(read_lesson(FOLDER / "printed.md"), ["cpu"])
    message = result.verdicts[69]["cpu"].message
    assert "random numbers drawn at line 68 with no seed set before them" in message


TWELVE = "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11])"


@pytest.mark.parametrize(
    ("claimed", "actual", "same"),
    [
        ("3", "3\n", True),
        ("tensor([1, 4, 9])", "tensor([1, 4, 9])", True),
        ("tensor([1,4,9])", "tensor([1, 4, 9])", True),
        ("[1, 4, 9]", "tensor([1, 4, 9])", True),
        ("tensor([1., 2.])", "tensor([1., 2.], device='cuda:0')", True),
        ("tensor([0.33, 0.67])", "tensor([0.3333, 0.6667])", True),
        ("tensor([0.3333, 0.6667])", "tensor([0.33, 0.67])", True),
        ("tensor([0.33, 0.68])", "tensor([0.3333, 0.6667])", False),
        ("tensor([1, 2])", "tensor([1.2000, 2.0000])", False),
        ("tensor([0, 1, ..., 11])", TWELVE, True),
        ("tensor([1, ..., 11])", TWELVE, False),
        ("tensor(2., grad_fn=<MulBackward0>)", "tensor(2., grad_fn=<MulBackward0>)", True),
        ("tensor(2.)", "tensor(2., grad_fn=<MulBackward0>)", True),
        ("tensor(2., grad_fn=<MulBackward>)", "tensor(2., grad_fn=<MulBackward0>)", True),
        ("torch.float32", "torch.float32", True),
        ("torch.float32", "torch.float64", False),
        ("1.0000e-03", "0.001", True),
        ("12", "1 2", False),
    ],
)  # fmt: skip
def test_outputs_compare_as_doctest_would_and_at_the_printed_precision(
    claimed: str, actual: str, same: bool
) -> None:
    assert output_matches(claimed, actual) is same


@pytest.mark.parametrize(
    "text",
    ["3", "True", "torch.float32", "tensor([1, 4, 9])", "[1, 4, 9]", "(2, 3)", "-0.5 1e-3"],
)
def test_outputs_look_like_outputs(text: str) -> None:
    assert looks_like_output(text)


@pytest.mark.parametrize(
    "text",
    [
        "print the result",
        "2x2 matrix",
        "[0, 1, 2, ..., 11] - 12 elements",
        "(1, 1) means batch size and channels are both 1",
        "[B, T]",
        "rows [1, 2] and [3, 4]",
        "~0.69",
        "the sum, 10",
    ],
)
def test_phrases_do_not_look_like_outputs(text: str) -> None:
    assert not looks_like_output(text)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Shape: (3,)", "labelled"),
        ("shape -> [B, T]", "labelled"),
        ("Output shape: torch.Size([2, 3])", "labelled"),
        ("\u5f62\u72b6: (2, 3)", "labelled"),
        ("(B, 8, 7, 7) -> (B, 392)", "transition"),
        ("(B, 8, 7, 7) \u2192 (B, 392)", "transition"),
        ("[B, 1, 28, 28] \u2192 [B, 32, 28, 28] \u2192 [B, 32, 14, 14]", "transition"),
        ("(2, 3) @ (3, 4) \u2192 (2, 4)", "operation"),
        ("x is the input activations, of shape B,T,C", "subjects"),
        ("w are the weights, of shape C", "subjects"),
    ],
)
def test_labelled_shapes_transitions_and_operations(text: str, form: str) -> None:
    said = read_shape_comment(text)
    assert said is not None and said.form == form


def test_a_chain_claims_its_first_and_last_shapes() -> None:
    said = read_shape_comment("[B, 1, 28, 28] -> [B, 32, 28, 28] -> [B, 32, 14, 14]")
    assert said is not None
    assert [s.dims for s in said.shapes] == [("B", "1", "28", "28"), ("B", "32", "14", "14")]


@pytest.mark.parametrize(
    "text",
    [
        "(2, 3) @ (3, 4): the inner sizes must agree",
        "After 3 pooling ops: 28->14->7->3",
        "[B, 10] -> logits",
        "Shape of things to come",
    ],
)
def test_prose_with_arrows_and_operators_is_no_shape_claim(text: str) -> None:
    assert read_shape_comment(text) is None


def test_a_variable_named_like_a_label_keeps_its_subject() -> None:
    source = (
        "```python\nimport torch\noutput = torch.zeros(2)\n# output shape: [2]\n"
        "y = output + 1\n# Output shape: [2]\n```\n"
    )
    claims = {c.line: c for c in read_comments(parse_lesson(source, "t.md"))[0]}
    assert claims[4].subject == "output"  # the lesson's variable, looked up below the comment
    assert claims[6].subject == "y"  # a label: the statement right above it
