"""Formula claims: the whitelisted grammar, element-wise evaluation, and catching a wrong one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from harness.claims.formulas import compare, evaluate, parse_formula

KNOWN = frozenset({"x", "y"})


@pytest.mark.parametrize(
    "text", ["max(0, x)", "1 / (1 + e^-x)", "(e^x - e^-x) / (e^x + e^-x)",
             "x if x > 0 else 0.01*x", "min(x, y) * 2", "sqrt(x^2)"],
)  # fmt: skip
def test_math_over_known_names_is_a_formula(text: str) -> None:
    formula = parse_formula(text, KNOWN)
    assert formula is not None
    assert formula.names[0] == "x"


@pytest.mark.parametrize(
    "text",
    [
        "x",  # does nothing
        "2",
        "q * 2",  # q is not a name the lesson defines
        "Self-attention",
        "Used in Transformers",
        "__import__('os').system('echo hi')",  # never evaluated: not in the grammar
        "x.sum()",
        "[x, y]",
        "lambda: x",
        "x if x > 0 else (y := 1)",
        "x > 0 and y",
        "exp(x, 5)",  # exp takes one argument
        "max(x)",  # element-wise max takes two
    ],
)
def test_anything_else_is_not_a_formula(text: str) -> None:
    assert parse_formula(text, KNOWN) is None


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("max(0, x)", F.relu),
        ("1 / (1 + e^-x)", torch.sigmoid),
        ("(e^x - e^-x) / (e^x + e^-x)", torch.tanh),
        ("x if x > 0 else 0.01*x", lambda t: F.leaky_relu(t, 0.01)),
    ],
)
def test_formulas_match_what_torch_computes(text: str, function: object) -> None:
    x = torch.linspace(-5, 5, 100)
    formula = parse_formula(text, KNOWN)
    assert formula is not None and callable(function)
    value = function(x)
    assert compare(formula, value, evaluate(formula, {"x": x}, value))[0]


def test_a_wrong_formula_says_where_and_by_how_much() -> None:
    x = torch.linspace(-5, 5, 100)
    formula = parse_formula("x if x > 0 else 0.01*x", KNOWN)
    assert formula is not None
    value = F.leaky_relu(x, 0.1)
    equal, actual, why = compare(formula, value, evaluate(formula, {"x": x}, value))
    assert not equal
    assert actual == "-0.5 at [0]"
    assert why.startswith("50 of 100 elements differ; at [0] found -0.5, the formula gives -0.05")
    assert "rtol=1.3e-06" in why and "torch.float32" in why


def test_the_tolerance_follows_the_dtype() -> None:
    x = torch.linspace(-5, 5, 100)
    formula = parse_formula("1 / (1 + e^-x)", KNOWN)
    assert formula is not None
    half = torch.sigmoid(x.half())
    assert compare(formula, half, evaluate(formula, {"x": x.half()}, half))[0]
    off = torch.sigmoid(x) + 1e-3
    assert not compare(formula, off, evaluate(formula, {"x": x}, off))[0]


SUM = "+".join(["x"] * 1000)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (SUM, "the formula nests 1000 levels deep: at most 100 are checked"),
        ("-" * 500 + "x", "the formula nests 501 levels deep: at most 100 are checked"),
        ("x * 1e999", "a number in it overflows a float (past 1.8e308)"),
        ("x * " + "9" * 400, "a number in it has 400 digits: past torch's int64 (at most 19)"),
    ],
    ids=["1,000-term sum", "500 minus signs", "1e999", "400 nines"],
)
def test_a_formula_too_deep_or_with_an_overflowing_number_is_unchecked_with_why(
    text: str, reason: str
) -> None:
    """The 1,000-term sum once crashed the check with MemoryError (RecursionError in the
    probe); 1e999 and 400 nines reached torch as inf or an overflowing int."""
    formula = parse_formula(text, KNOWN)
    assert formula is not None and formula.reason == reason


@pytest.mark.parametrize(
    "text",
    ["word " * 20_000, "-" * 100_000 + "x", "x+" * 5000 + "x", "(" * 300 + "x" + ")" * 300],
    ids=["100 KB of words", "100 KB of minus signs", "5,000-term sum", "300 parentheses"],
)
def test_text_past_the_parser_is_not_a_formula(text: str) -> None:
    assert parse_formula(text, KNOWN) is None
