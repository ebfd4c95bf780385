"""The shape grammar, and jaxtyping-style matching of claims against actual sizes."""

from __future__ import annotations

import pytest

from harness.claims.shapes import (
    Shape,
    find_shape,
    format_dims,
    match,
    parse_named_dims,
    parse_shape,
)
from tests.test_depends import _lines_run


def nothing(name: str) -> int | None:
    return None


def shape(text: str) -> Shape:
    parsed = parse_shape(text) or parse_named_dims(text)
    assert parsed is not None, text
    return parsed


# parsing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("[16, 3]", ("16", "3")),
        ("[B, 1, 28, 28]", ("B", "1", "28", "28")),
        ("[batch, seq_len, hidden_size*2]", ("batch", "seq_len", "hidden_size*2")),
        ("[num_layers*2, batch, hidden_size]", ("num_layers*2", "batch", "hidden_size")),
        ("[B, 128*3*3]", ("B", "128*3*3")),
        ("[ n - 1 , (a+b) // 2, c / 4 ]", ("n - 1", "(a+b) // 2", "c / 4")),
        ("[]", ()),
        ("(batch, 6, 24, 24)", ("batch", "6", "24", "24")),
        ("(batch_size, seq_len, d_model)", ("batch_size", "seq_len", "d_model")),
        ("(5,)", ("5",)),
        ("torch.Size([32, 10, 512])", ("32", "10", "512")),
        ("Size([3])", ("3",)),
        ("torch.Size([])", ()),
        ("B,T,C", ("B", "T", "C")),
        ("B,T,1", ("B", "T", "1")),
        ("  [16, 3]  ", ("16", "3")),
    ],
)
def test_every_form_parses_to_its_dims(text: str, dims: tuple[str, ...]) -> None:
    parsed = parse_shape(text)
    assert parsed is not None
    assert (parsed.text, parsed.dims, parsed.labels) == (text.strip(), dims, ())


@pytest.mark.parametrize(
    "text",
    [
        "32 filters",
        "Same padding",
        "3x3 filter",
        "max(0, x)",
        "[0, 1, 2, ..., 11] - 12 elements",
        "[0, 1, 2, ..., 11]",
        "Q, K, V",
        "B, T, C",
        "(x)",
        "()",
        "32",
        "B",
        "[1.5, 2]",
        "[a, 'b']",
        "[1,,2]",
        "[,]",
        "[f(x), 2]",
        "[a == b]",
        "[-1, 3]",
        "[2**3]",
        "[x.y, 3]",
        "[None, 3]",
        "[True, 3]",
        "[a # note]",
        "[[1, 2], [3]]",
        "[1, 2] + [3]",
        "(a, b)(c, d)",
        "torch.Size([1, 2]",
        "torch.Size(1, 2)",
        "1,000",
        "",
    ],
)
def test_prose_and_traps_are_not_shapes(text: str) -> None:
    assert parse_shape(text) is None


def test_named_dims_parse_to_labels_and_dims() -> None:
    parsed = parse_named_dims("Batch=1, Channels=1, H=28, W=28")
    assert parsed is not None
    assert parsed.labels == ("Batch", "Channels", "H", "W")
    assert parsed.dims == ("1", "1", "28", "28")
    two = parse_named_dims(" Batch=16, SeqLen=50 ")
    assert two is not None and (two.text, two.dims) == ("Batch=16, SeqLen=50", ("16", "50"))


@pytest.mark.parametrize(
    "text",
    [
        "Batch=32",
        "Batch size 1",
        "Batch=32, SeqLen",
        "Batch=32, Seq Len=20",
        "a=1.5, b=2",
        "[16, 3]",
    ],
)
def test_named_dims_reject_other_text(text: str) -> None:
    assert parse_named_dims(text) is None


@pytest.mark.parametrize(
    ("text", "span", "dims"),
    [
        ("Conv block 1: [B, 1, 28, 28] -> [B, 32, 14, 14]", (14, 28), ("B", "1", "28", "28")),
        ("out is torch.Size([32, 10]) here", (7, 27), ("32", "10")),
        ("relu(x) then (batch, 6, 24, 24)", (13, 31), ("batch", "6", "24", "24")),
        ("list [0, 1, ..., 11] then [n, 2]", (26, 32), ("n", "2")),
    ],
)
def test_find_shape_returns_the_first_with_its_span(
    text: str, span: tuple[int, int], dims: tuple[str, ...]
) -> None:
    found = find_shape(text)
    assert found is not None
    start, end, parsed = found
    assert ((start, end), parsed.dims) == (span, dims)
    assert parsed.text == text[start:end]


@pytest.mark.parametrize(
    "text", ["no shape here (really)", "B,T,C inside prose", "[0, 1, 2, ..., 11] - 12", "max(0, x"]
)
def test_find_shape_finds_nothing_in_prose(text: str) -> None:
    assert find_shape(text) is None


def test_format_dims() -> None:
    assert (format_dims((8, 20, 64)), format_dims(())) == ("[8, 20, 64]", "[]")


# matching --------------------------------------------------------------------------------------
def test_right_claims_pass() -> None:
    bindings: dict[str, int] = {}
    result = match(shape("[B, 128*3*3]"), (4, 1152), bindings, nothing)
    assert result == match(shape("[B, 128*3*3]"), (4, 1152), {}, nothing)
    assert (result.verdict, result.expected, result.actual, result.message) == (
        "passed",
        "[B=4, 128*3*3=1152]",
        "[4, 1152]",
        "",
    )
    assert bindings == {"B": 4}
    assert match(shape("[]"), (), {}, nothing).verdict == "passed"
    assert match(shape("torch.Size([16, 3])"), (16, 3), {}, nothing).expected == "[16, 3]"
    assert match(shape("[(n+1)//2, n/2]"), (3, 2), {"n": 4}, nothing).verdict == "failed"
    assert match(shape("[(n+1)//2, n/2]"), (2, 2), {"n": 4}, nothing).verdict == "passed"


def test_a_changed_literal_fails_with_expected_and_found() -> None:
    result = match(shape("(16, 3)"), (16, 4), {}, nothing)
    assert (result.verdict, result.expected, result.actual) == ("failed", "[16, 3]", "[16, 4]")
    assert result.message == "expected [16, 3], found [16, 4]: dim 1 is 3, found 4"


def test_rank_mismatch_fails() -> None:
    result = match(shape("[batch, seq_len, d_k]"), (8, 20), {}, nothing)
    assert result.verdict == "failed"
    assert result.message == "expected 3 dimensions [batch, seq_len, d_k], found 2: [8, 20]"
    assert result.expected == "[batch=?, seq_len=?, d_k=?]"


def test_one_name_must_agree_across_dimensions() -> None:
    square = shape("[n, n]")
    assert match(square, (3, 3), {}, nothing).verdict == "passed"
    bindings: dict[str, int] = {}
    result = match(square, (3, 4), bindings, nothing)
    assert result.verdict == "failed"
    assert result.message == (
        "expected [n, n], found [3, 4]: dim 1 is n = 3 (from dim 0), found 4; bindings: n=3"
    )
    assert bindings == {}  # a failed claim binds nothing for the claims after it


def test_bindings_carry_across_claims_of_one_call() -> None:
    bindings: dict[str, int] = {}
    assert match(shape("[batch, seq_len]"), (8, 20), bindings, nothing).verdict == "passed"
    assert bindings == {"batch": 8, "seq_len": 20}
    result = match(shape("[seq_len, batch]"), (8, 20), bindings, nothing)
    assert result.verdict == "failed"
    assert result.expected == "[seq_len=20, batch=8]"
    assert "dim 0 is seq_len = 20 (bound), found 8" in result.message
    assert "dim 1 is batch = 8 (bound), found 20" in result.message
    assert result.message.endswith("; bindings: batch=8, seq_len=20")
    # a fresh dict is a fresh call: the same claim passes
    assert match(shape("[seq_len, batch]"), (8, 20), {}, nothing).verdict == "passed"


def test_the_jaxtyping_style_message_lists_every_binding() -> None:
    bindings = {"batch": 8, "seq_len": 20, "hidden_size": 64}
    result = match(shape("[batch, seq_len, hidden_size]"), (8, 20, 1), bindings, nothing)
    assert result.expected == "[batch=8, seq_len=20, hidden_size=64]"
    assert result.message == (
        "expected [batch, seq_len, hidden_size], found [8, 20, 1]: dim 2 is "
        "hidden_size = 64 (bound), found 1; bindings: batch=8, seq_len=20, hidden_size=64"
    )
    assert "\n" not in result.message


def test_a_value_in_scope_wins_over_free_binding() -> None:
    claim = shape("[batch, num_heads, seq_len, d_k]")
    scope = {"num_heads": 8, "d_k": 64}
    bindings: dict[str, int] = {}
    assert match(claim, (4, 8, 30, 64), bindings, scope.get).verdict == "passed"
    assert bindings == {"num_heads": 8, "d_k": 64, "batch": 4, "seq_len": 30}
    bindings = {}
    result = match(claim, (4, 8, 30, 32), bindings, scope.get)
    assert result.verdict == "failed"
    assert "dim 3 is d_k = 64 (in scope), found 32" in result.message
    assert "d_k=64 (in scope)" in result.message
    assert bindings == {"num_heads": 8, "d_k": 64}  # values in scope are recorded even so


def test_an_earlier_binding_is_used_before_lookup() -> None:
    asked: list[str] = []

    def lookup(name: str) -> int | None:
        asked.append(name)
        return 99

    assert match(shape("[n, m]"), (3, 99), {"n": 3}, lookup).verdict == "passed"
    assert asked == ["m"]


def test_a_linear_dimension_is_solved_and_binds() -> None:
    bindings: dict[str, int] = {}
    doubled = match(shape("[batch, hidden_size*2]"), (8, 512), bindings, nothing)
    assert (doubled.verdict, doubled.expected) == ("passed", "[batch=8, hidden_size*2=512]")
    assert bindings == {"batch": 8, "hidden_size": 256}
    result = match(shape("[hidden_size]"), (255,), bindings, nothing)
    assert result.verdict == "failed"
    assert "dim 0 is hidden_size = 256 (bound), found 255" in result.message
    assert match(shape("[2*n+1, n-1]"), (7, 2), {}, nothing).verdict == "passed"
    assert match(shape("[2*n+1, n-1]"), (7, 3), {}, nothing).verdict == "failed"
    # solving waits for a name bound later in the claim
    assert match(shape("[a*b, b]"), (12, 4), {}, nothing).verdict == "passed"


@pytest.mark.parametrize(
    ("claim", "size", "words"),
    [
        ("[n*2]", 513, "no integer value of n makes n*2 = 513"),
        ("[n+5]", 3, "no integer value of n makes n+5 = 3"),
    ],
)
def test_no_integer_solution_fails(claim: str, size: int, words: str) -> None:
    bindings: dict[str, int] = {}
    result = match(shape(claim), (size,), bindings, nothing)
    assert result.verdict == "failed"
    assert words in result.message
    assert bindings == {}


def test_two_unknowns_are_unchecked_never_passed() -> None:
    result = match(shape("[a*b]"), (12,), {}, nothing)
    assert result.verdict == "unchecked"
    assert result.expected == "[a*b=?]"
    assert result.message == "cannot decide a*b = 12: 2 unknowns (a, b)"
    assert match(shape("[a*b]"), (12,), {"a": 3}, nothing).verdict == "passed"
    assert match(shape("[a*b]"), (12,), {}, {"a": 5}.get).verdict == "failed"


def test_undecidable_dimensions_are_unchecked_and_failure_wins() -> None:
    nonlinear = match(shape("[n*n]"), (9,), {}, nothing)
    assert (nonlinear.verdict, nonlinear.message) == (
        "unchecked",
        "cannot decide n*n = 9: not linear in n",
    )
    floor = match(shape("[n//2, 3]"), (4, 3), {}, nothing)
    assert floor.verdict == "unchecked"
    zero = match(shape("[n/0]"), (4,), {"n": 1}, nothing)
    assert zero.verdict == "unchecked" and "divides by zero" in zero.message
    both = match(shape("[a*b, 3]"), (12, 4), {}, nothing)
    assert both.verdict == "failed"
    assert "dim 1 is 3, found 4" in both.message


def test_named_dims_compare_by_position_and_labels_never_bind() -> None:
    claim = shape("Batch=32, SeqLen=20, Features=10")
    bindings: dict[str, int] = {}
    passed = match(claim, (32, 20, 10), bindings, nothing)
    assert (passed.verdict, passed.expected) == ("passed", "[Batch=32, SeqLen=20, Features=10]")
    assert bindings == {}
    wrong = match(claim, (32, 20, 12), {}, nothing)
    assert wrong.verdict == "failed"
    assert wrong.message == (
        "expected [Batch=32, SeqLen=20, Features=10], found [32, 20, 12]: "
        "Features=10 but found 12 at dim 2"
    )
    short = match(claim, (32, 20), {}, nothing)
    assert short.verdict == "failed" and "expected 3 dimensions" in short.message


@pytest.mark.parametrize(
    "text",
    [
        "[" + "+".join(["a"] * 900) + ", 3]",
        "[" + "+".join(["a"] * 5000) + ", 3]",
        "(" * 20_000 + ")" * 20_000,
        "[" * 50_000,
        "[" + "9" * 5000 + ", 3]",
    ],
    ids=["900-term dim", "5,000-term dim", "20,000 parentheses", "50,000 brackets", "big"],
)
def test_shapes_past_the_bounds_are_not_shapes(text: str) -> None:
    """A dimension of 900 terms once raised RecursionError in the main process."""
    assert parse_shape(text) is None
    assert find_shape(text) is None


def test_a_deep_dimension_within_the_bounds_still_parses() -> None:
    dim = "+".join(["a"] * 50)
    shape = parse_shape(f"[{dim}, 3]")
    assert shape is not None and shape.dims == (dim, "3")


def test_finding_a_shape_is_linear_in_the_comment() -> None:
    """50,000 ``[`` took 99 s: each opening bracket was scanned to the end of the text."""
    small = _lines_run(lambda: find_shape("[" * 1000), "claims/shapes.py")
    large = _lines_run(lambda: find_shape("[" * 2000), "claims/shapes.py")
    assert large / small < 2.5
