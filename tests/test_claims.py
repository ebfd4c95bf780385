"""Finding claims statically: forms, subjects, and comments that are not shape claims."""

from __future__ import annotations

import ast
import sys
from unittest.mock import Mock

import pytest

from harness.claims import (
    Insert,
    Wrap,
    find_claims,
    parse_block,
    read_comments,
    read_shape_comment,
)
from harness.lesson import parse_lesson, read_lesson
from harness.run import block
from harness.run.instrument import BINDINGS, PROBE, compile_block
from harness.run.probe import Probe
from tests.paths import LESSON
from tests.test_runner import SHAPE_CLAIMS


def test_every_shape_claim_of_the_lesson_is_found() -> None:
    claims = {c.line: c for c in find_claims(read_lesson(LESSON)) if c.kind == "shape"}
    assert set(SHAPE_CLAIMS) <= set(claims)
    # the only other one: a trailing comment whose subject names no variable
    assert set(claims) - set(SHAPE_CLAIMS) == {308}
    subjects = {line: claims[line].subject for line in (111, 240, 249, 327, 450, 452, 470, 536)}
    assert subjects == {
        111: "output.shape",
        240: "x",
        249: "x",
        327: "last_output",
        450: "weights.unsqueeze(1)",
        452: "context",
        470: "query",
        536: "Q, K, V",
    }
    assert [type(p) for p in claims[240].places] == [Insert, Insert]
    assert isinstance(claims[451].places[0], Wrap)


@pytest.mark.parametrize(
    "text",
    [
        "32 filters",
        "Same padding",
        "3x3 filter",
        "Grayscale image",
        "max(0, x)",
        "1 / (1 + e^-x)",
        "Batch size 1",
        "100 samples",
        "After 3 pooling ops: 28->14->7->3",
        "[0, 1, 2, ..., 11] - 12 elements",
        "Q, K, V",
        "Used in Transformers",
        "or nn.ReLU(), nn.LeakyReLU(), etc.",
    ],
)
def test_prose_is_not_a_shape_claim(text: str) -> None:
    assert read_shape_comment(text) is None


@pytest.mark.parametrize(
    ("text", "form", "dims"),
    [
        ("[16, 3]", "value", [("16", "3")]),
        ("torch.Size([32, 10, 512])", "value", [("32", "10", "512")]),
        ("-> (batch, 6, 24, 24)", "value", [("batch", "6", "24", "24")]),
        ("B,T,1", "value", [("B", "T", "1")]),
        ("(batch_size, seq_len, d_model)", "value", [("batch_size", "seq_len", "d_model")]),
        ("x shape: [batch, seq_len] - token indices", "subjects", [("batch", "seq_len")]),
        ("Flatten: [B, 128, 3, 3] -> [B, 128*3*3]", "transition",
         [("B", "128", "3", "3"), ("B", "128*3*3")]),
        ("Batch=32, SeqLen=20, Features=10", "named", [("32", "20", "10")]),
    ],
)  # fmt: skip
def test_shape_forms(text: str, form: str, dims: list[tuple[str, ...]]) -> None:
    said = read_shape_comment(text)
    assert said is not None
    assert (said.form, [s.dims for s in said.shapes]) == (form, dims)


def test_ambiguous_and_unplaceable_claims_are_unchecked_with_why() -> None:
    source = (
        "```python\nimport torch\na = torch.zeros(2)\nb = torch.zeros(3)\n"
        'print(a.shape, b.shape)  # [2]\nprint("hi")  # [n]\n\n# [2]\nprint(a.tolist())  # [2]\n'
        "```\n"
    )
    claims = {c.line: c for c in find_claims(parse_lesson(source, "t.md"))}
    assert "which one is claimed" in claims[5].reason
    assert "prints no .shape" in claims[6].reason
    assert claims[9].kind == "printed"  # a value, not a shape: what the print shows
    assert "names no variable" in claims[8].reason


FORMULAS = [687, 688, 689, 690]
BEHAVIOURS = [54, 55, 58, 109, 177, 178, 179, 184, 185, 216, 217, 218, 219, 358, 415, 668, 669,
              705, 706, 709, 710, 717]  # fmt: skip


def test_formulas_behaviours_and_prose_of_the_lesson() -> None:
    claims, prose = read_comments(read_lesson(LESSON))
    kinds = {c.line: c.kind for c in claims if c.kind != "shape"}
    assert kinds == {
        **dict.fromkeys(FORMULAS, "formula"),
        **dict.fromkeys(BEHAVIOURS, "behaviour"),
    }
    texts = {c.text: c.line for c in prose}
    prose_texts = ["Used in Transformers", "Speech recognition", "Robust to outliers"]
    prose_texts += ["Self-attention", "or nn.ReLU(), nn.LeakyReLU(), etc.", "Forward pass"]
    for said in prose_texts:
        assert said in texts, said
    by_line = {c.line: c for c in claims}
    # a keyword line of a call spread over lines: the claim is about what the call builds
    assert {by_line[line].subject for line in (216, 217, 218, 219)} == {"self.conv1"}
    # a method call: the object it is called on, looked at before and after
    assert [getattr(p, "where", None) for p in by_line[177].places] == ["before", "after"]
    assert by_line[177].subject == "optimizer"
    # operands of the line's operation are kept for the check
    roles = [getattr(p, "role", None) for p in by_line[54].places]
    assert roles == ["value", "operand", "operand"]


def test_a_formula_over_names_the_lesson_never_defines_is_prose() -> None:
    source = (
        "```python\nimport torch\nx = torch.ones(2)\ny = x * 2  # Self-attention\n"
        "z = x * 2  # 2*x\nw = x * 2  # 2*q\n```\n"
    )
    claims, prose = read_comments(parse_lesson(source, "t.md"))
    assert [(c.line, c.kind) for c in claims] == [(5, "formula")]
    assert [c.line for c in prose] == [4, 6]


def _claims(code: str) -> dict[int, object]:
    lesson = parse_lesson(f"```python\nimport torch\n{code}```\n", "t.md")
    return {c.line: c for c in find_claims(lesson)}


def test_augmented_assignments_and_in_place_calls() -> None:
    claims = _claims(
        "x = torch.ones(4, 3)\nb = torch.ones(3)\nx += b  # [4, 3]\nn = 1\n"
        "n += 1  # n + 1\ny = x.add_(1)  # x + 1\n"
    )
    shape = claims[5]  # x += b: about x after the statement, not about b
    assert [getattr(p, "where", None) for p in getattr(shape, "places", ())] == ["after"]
    assert "augmented assignment" in getattr(claims[7], "reason", "")
    assert "in-place add_()" in getattr(claims[8], "reason", "")


def test_a_line_changed_by_replace_claims_the_original() -> None:
    text = (
        '<!-- harness: replace "500" "2" -->\n```python\nepochs = 500  # 500 epochs\nx = 1\n```\n'
    )
    (claim,) = find_claims(parse_lesson(text, "t.md"))
    assert claim.reason == (
        "the replace directive at line 1 changed this line: it claims the original"
    )


def test_comments_of_any_size_are_prose_or_unchecked_with_a_reason() -> None:
    """Each of these once crashed the whole check (MemoryError, RecursionError, ValueError)
    or passed a claim it never checked (400 nines: within 5% of infinity)."""
    terms = "+".join(["a"] * 1000)
    words = "word " * 20_000
    lesson = parse_lesson(
        "```python\n"
        "import torch\n"
        "a = torch.ones(3)\n"
        f"b = a  # {words}\n"  # line 4
        f"c = a  # {terms}\n"
        f"d = torch.zeros(2, 3)  # [{terms}, 3]\n"
        f"m = torch.nn.Linear(3, 3)  # ~{'9' * 400} parameters\n"
        f"n = torch.nn.Linear(3, 3)  # {'9' * 30} samples\n"
        f"e = a  # {'-' * 100_000}a\n"
        f"# {'[' * 50_000}\n"  # line 10
        "def f(x):\n"
        f"    '''{words}\n"
        f"    x: [{terms}]\n"
        f"    y: [{'2, ' * 30_000}2]\n"
        "    '''\n"
        "    return x\n"
        "```\n",
        "l.md",
    )
    claims, prose = read_comments(lesson)
    assert [(c.line, c.kind, c.reason) for c in claims] == [
        (5, "formula", "the formula nests 1000 levels deep: at most 100 are checked"),
        (
            7,
            "behaviour",
            "the number 999999999999...999999 has 400 digits: too large to be a count "
            "(at most 18 are checked)",
        ),
        (
            8,
            "behaviour",
            "the number 999999999999...999999 has 30 digits: too large to be a count "
            "(at most 18 are checked)",
        ),
    ]
    assert [c.line for c in prose] == [4, 6, 9, 10]


def _compiles_a_tree_of(terms: int) -> bool:
    """Whether this Python compiles a sum of ``terms`` from a tree, given the recursion limit
    that ``compile_block`` gives it (3.11 does; 3.12.1 does not, whatever the limit)."""
    tree = ast.parse("y = " + "+".join(["x"] * terms))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * terms))
    try:
        compile(tree, "t", "exec")
    except RecursionError:
        return False
    finally:
        sys.setrecursionlimit(limit)
    return True


@pytest.mark.skipif(
    not _compiles_a_tree_of(2800), reason="this Python compiles no tree this deep (the next test)"
)
def test_a_claim_on_code_as_deep_as_python_parses_is_checked() -> None:
    """Python runs a sum of 2,800 terms; unparsing or instrumenting it once recursed too deep."""
    terms = "+".join(["x"] * 2800)
    lesson = parse_lesson(f"```python\nx = 1\ny = {terms}  # 2800 values\n```\n", "l.md")
    claims = find_claims(lesson)
    (claim,) = claims
    assert (claim.kind, claim.reason, claim.subject) == ("behaviour", "", "y")
    tree = parse_block(lesson.python_fences[0])
    assert tree is not None
    probe = Probe(claims, "l.md", lesson.python_fences)
    exec(compile_block(tree, claims, "l.md"), {PROBE: probe, BINDINGS: {}})
    assert probe.tallies[3].verdict == "passed"


def test_a_block_too_deep_to_compile_with_probes_runs_without_them_its_claims_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.12 compiles a tree less deep than it parses text (from a sum of about 1,500
    terms): such a block runs as written, and its claims say why they were not checked, a
    wrong one too; never passed, never failed."""
    terms = "+".join(["x"] * 2800)
    source = (
        f"```python\nx = 1\ny = {terms}  # 2800 values\nz = y * 2  # 5 values\n```\n\n"
        "```python\nw = [1, 2]  # 2 values\n```\n"
    )
    lesson = parse_lesson(source, "l.md")
    claims = find_claims(lesson)
    assert [c.line for c in claims] == [3, 4, 8]
    probe = Probe(claims, "l.md", lesson.python_fences)
    namespace: dict[str, object] = {PROBE: probe}
    too_deep = RecursionError("maximum recursion depth exceeded while traversing 'expr' node")
    monkeypatch.setattr(block, "compile_block", Mock(side_effect=too_deep))  # 3.12.1 raised it
    result = block.run_block(lesson, lesson.python_fences[0], claims, "cpu", namespace, probe)
    assert result.status == "passed", result.error
    assert namespace["z"] == 5600
    for line in (3, 4):
        tally = probe.tallies[line]
        assert tally.verdict == "unchecked"
        assert "cannot compile this block's tree, nested this deep, with its probes" in (
            tally.message
        )
    assert 8 not in probe.tallies  # another block's claim: checked when that block runs
