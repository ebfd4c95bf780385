"""Named behaviours: every entry of the registry catches a wrong claim and passes a right one.

``tests/samples/claims/behaviours.md`` holds each claim twice: once true, once false.
"""

from __future__ import annotations

import re

import pytest

from harness.claims import behaviours
from harness.lesson import read_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.lessons import check_text
from tests.paths import SAMPLES

SAMPLE = SAMPLES / "claims" / "behaviours.md"
# line of a false claim -> what its failure says
WRONG = {
    16: "w: expected two operands and a result of one shape, got [3] + [3] -> []",
    18: "outer: expected a scalar (shape []), got shape [3]",
    20: "n: expected shape [3, 4], got shape [4, 3]",
    22: "b: expected dim 0 to be 8 (Batch size 8), got 5 (shape [5, 8])",
    24: "d: expected dim 0 to be 100 (100 samples), got 10 (shape [10, 2])",
    26: "more: expected class labels in [0, 3), got labels from 0 to 4",
    28: "gray: expected [10, 3, 32, 32], got [10, 1, 32, 32]: dim 1 is 3, got 1",
    30: "few: expected a dimension of size 100 (100 time steps), got shape [4, 50, 1]",
    41: "bad: expected in_channels=1, got in_channels=3",
    42: "bad: expected out_channels=32, got 16",
    43: "bad: expected kernel_size=(3, 3), got kernel_size=(5, 5)",
    44: "bad: expected the output's spatial size to equal the input's [28, 28], got [24, 24] "
    "(Conv2d with padding=(0, 0))",
    49: "one: expected bidirectional=True, got bidirectional=False",
    52: "no_bias: expected 2,359,296 parameters (exactly), got 2,360,448 parameters; the biases "
    "(1,152) make the difference: the claim leaves them out",
    54: "wrong: expected ~2M parameters (within 5%), got 1,049,600 parameters",
    67: "out: expected every gradient None or zero after the call, got 2 of 2 parameters with "
    "non-zero gradients",
    68: "model: expected the parameters to change, got 0 of 2 changed",
    69: "out: expected every parameter to have a gradient after the call, got 2 of 2 without",
    78: "not_mse: expected mean squared error = ",
    79: "not_mae: expected mean absolute error = ",
    80: "not_ce: expected cross entropy over classes, got ValueError: Target size",
    81: "not_bce: expected binary cross entropy = ",
    89: "nn.Conv2d(8, 8, 3): expected the output's spatial size to equal the input's [10, 10], "
    "got [8, 8] (Conv2d with padding=(0, 0))",
    94: "wide: expected dim 0 to be 4 (4 rows), got 3 (shape [3, 4])",
    99: "shallow: expected num_layers=2, got 1",
}
RIGHT = [15, 17, 19, 21, 23, 25, 27, 29, 35, 36, 37, 38, 48, 51, 53, 62, 63, 64, 73, 74, 75, 76,
         77, 88, 93, 96, 98]  # fmt: skip


@pytest.fixture(scope="module")
def result() -> LessonResult:
    return check_lesson(read_lesson(SAMPLE), ["cpu"])


def test_every_true_claim_passes(result: LessonResult) -> None:
    verdicts = {line: result.verdicts[line]["cpu"].verdict for line in RIGHT}
    assert verdicts == dict.fromkeys(RIGHT, "passed")


def test_every_false_claim_fails_at_its_line_saying_claimed_and_found(
    result: LessonResult,
) -> None:
    failures = {int(text.split(":")[1]): text for text in result.failures()}
    assert set(failures) == set(WRONG)
    for line, said in WRONG.items():
        assert failures[line].startswith(f"{SAMPLE}:{line}: [cpu] {said}")


def test_claims_on_a_layer_are_checked_at_every_call(result: LessonResult) -> None:
    assert result.verdicts[38]["cpu"].checks == 1  # "Same padding": the one call of `good`
    assert result.verdicts[62]["cpu"].checks == 2  # zero_grad in a loop of two steps


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("32 samples, 10 classes", ["samples", "classes"]),
        ("Same padding", ["same_padding"]),
        ("~117M parameters", ["parameter_count"]),
        ("1000 RGB images 32x32", ["images"]),
        ("Clear previous gradients", ["clear_previous_gradients"]),
        ("Backward pass - computes all gradients", None),  # prose around a phrase
        ("Used in Transformers", None),
        ("Robust to outliers", None),
        ("Update weights, 3 classes", None),  # a call phrase and a value phrase
        ("0 is reserved for padding", None),
        ("1 would keep the size", None),
        ("64 hidden units", ["count"]),
    ],
)
def test_reading_phrases(text: str, names: list[str] | None) -> None:
    found = behaviours.read(text)
    assert (None if found is None else [b.name for b, _ in found]) == names


@pytest.mark.parametrize(
    ("claim", "count", "verdict"),
    [
        ("2,359,296 parameters", 2_359_296, "passed"),
        ("2,359,296 parameters", 2_360_448, "failed"),
        ("117M parameters", 117_400_000, "passed"),
        ("117M parameters", 124_000_000, "failed"),
        ("2.4M parameters", 2_360_448, "passed"),
        ("~117M parameters", 121_000_000, "passed"),
        ("~117M parameters", 124_439_808, "failed"),
        ("1.5K params", 1_500, "passed"),
    ],
)
def test_parameter_counts_read_as_written(claim: str, count: int, verdict: str) -> None:
    ((behaviour, match),) = behaviours.read(claim) or []
    assert behaviour.check is not None
    outcome = behaviour.check(match, count, behaviours.Context())
    assert outcome is not None and outcome.verdict == verdict


def test_layers_inside_a_call_and_prose_that_looks_like_a_count(result: LessonResult) -> None:
    claims = {c.line: c for c in result.claims}
    # each layer of an nn.Sequential(...) is its own subject, not the Sequential
    assert claims[88].subject == "nn.Conv2d(1, 8, 3, padding=1)"
    never = result.verdicts[92]["cpu"]
    assert (never.verdict, never.message) == (
        "not-run",
        "the layer built on this line was never called (or the line never ran)",
    )
    assert 95 in {c.line for c in result.prose}  # "10 epochs is too few"
    assert claims[96].subject == "range(10)"  # a range of 10: len() counts the epochs


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (f"~{'9' * 400} parameters", "the number 999999999999...999999 has 400 digits"),
        (f"{'9' * 19} samples", "the number 9999999999999999999 has 19 digits"),
        (f"batch size {'1' * 25}", "the number 111111111111...111111 has 25 digits"),
        ("~117M parameters", ""),
        (f"{'9' * 18} samples", ""),
    ],
)
def test_numbers_past_any_tensor_are_unchecked_never_passed(text: str, why: str) -> None:
    """``~<400 nines> parameters`` passed: float(digits) is inf, and every count is within 5%
    of infinity."""
    found = behaviours.read(text)
    assert found is not None
    assert behaviours.oversized(found).startswith(why)
    if why:
        assert behaviours.oversized(found).endswith(
            "too large to be a count (at most 18 are checked)"
        )


def test_a_parameter_count_that_overflows_is_unchecked_at_the_probe_too() -> None:
    import torch

    ((behaviour, match),) = behaviours.read(f"~{'9' * 400} parameters") or []
    assert behaviour.check is not None
    outcome = behaviour.check(match, torch.nn.Linear(2, 2), behaviours.Context())
    assert outcome is not None and outcome.verdict == "unchecked"


def test_labels_that_never_reach_the_last_claimed_class_fail_or_are_unchecked() -> None:
    """``# 12 classes`` on 1,000 labels from 0 to 9 used to pass (labels within [0, 12)): a
    claim nothing showed. Enough labels and no label 11: failed; four labels: unchecked."""
    result = check_lesson(read_lesson(SAMPLES / "claims" / "classes.md"), ["cpu"])
    verdicts = {line: result.verdicts[line]["cpu"] for line in (6, 7, 8)}
    assert verdicts[6].verdict == "passed"
    assert verdicts[7].verdict == "failed"
    assert "expected 12 classes, got labels from 0 to 9 in 1000 labels: no label is 11" in (
        verdicts[7].message
    )
    assert verdicts[8].verdict == "unchecked"
    assert "too few to say classes 2 to 4 are missing" in verdicts[8].message


SAVED_AFTER_A_LAYER_CLAIM = """\
```python
import io
import torch
from torch import nn
conv = nn.Conv2d(1, 4, 3, padding=1)  # same padding
lstm = nn.LSTM(3, 5, bidirectional=True)  # bidirectional
y = conv(torch.zeros(1, 1, 8, 8))
out, _ = lstm(torch.zeros(2, 1, 3))
torch.save(conv, io.BytesIO())
torch.save(lstm, io.BytesIO())
scripted = torch.jit.script(conv)
```
"""


def test_a_layer_claim_checked_at_its_call_leaves_the_layer_as_it_was() -> None:
    """The claim's check is an observation: once made, the layer pickles and scripts as it
    would without the claim (a hook left on it did not: a local function does not pickle)."""
    result = check_text(SAVED_AFTER_A_LAYER_CLAIM, "layers.md")
    block = result.blocks[1]["cpu"]
    assert block.status == "passed", block.error
    assert {line: per["cpu"].verdict for line, per in result.verdicts.items()} == {
        5: "passed",
        6: "passed",
    }


class _Node:
    """An autograd node as torch's Python API hands it out: ``next_functions`` makes new
    node objects on every read, so an object is freed once nothing holds it."""

    def __init__(self, depth: int, path: str) -> None:
        self.depth, self.path = depth, path
        if depth == 0:
            self.variable = path  # an AccumulateGrad node: its leaf

    @property
    def next_functions(self) -> tuple[tuple[_Node, int], ...]:
        if self.depth == 0:
            return ()
        return tuple((_Node(self.depth - 1, f"{self.path}{i}"), 0) for i in range(2))


def test_every_leaf_of_a_loss_is_found_however_its_node_objects_are_reused() -> None:
    """torch 2.11 handed out node objects at addresses of freed ones: the walk skipped them
    as seen, and ``loss.backward()  # Compute gradients`` failed with "no autograd graph"."""
    from harness.claims.behaviours.training import _leaves

    class Loss:
        grad_fn = _Node(6, "w")

    match = re.match("", "")
    assert match is not None
    found = _leaves(match, Loss())
    assert sorted(found) == sorted(f"w{i:06b}" for i in range(64))
