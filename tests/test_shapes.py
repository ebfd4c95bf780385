"""The shape grammar and jaxtyping-style matching."""

from __future__ import annotations

import pytest

from harness.shapes import find_shape, match, parse_named_dims, parse_shape


def nothing(name: str) -> int | None:
    return None


@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("[16, 3]", ("16", "3")),
        ("[B, 128*3*3]", ("B", "128*3*3")),
        ("[num_layers*2, batch, hidden_size]", ("num_layers*2", "batch", "hidden_size")),
        ("(batch, 6, 24, 24)", ("batch", "6", "24", "24")),
        ("(5,)", ("5",)),
        ("torch.Size([32, 10, 512])", ("32", "10", "512")),
        ("[]", ()),
        ("B,T,C", ("B", "T", "C")),
    ],
)
def test_shapes_parse(text: str, dims: tuple[str, ...]) -> None:
    shape = parse_shape(text)
    assert shape is not None and shape.dims == dims


@pytest.mark.parametrize(
    "text", ["(x)", "[1.5, 2]", "[a, 'b']", "[1,,2]", "[f(x), 2]", "B, T, C", "[a == b]", "32"]
)
def test_not_shapes(text: str) -> None:
    assert parse_shape(text) is None


def test_find_shape_in_text() -> None:
    found = find_shape("Conv block 1: [B, 1, 28, 28] -> [B, 32, 14, 14]")
    assert found is not None
    start, end, shape = found
    assert (start, end, shape.dims) == (14, 28, ("B", "1", "28", "28"))
    assert find_shape("no shape here (really)") is None


def test_named_dims() -> None:
    shape = parse_named_dims("Batch=32, SeqLen=20, Features=10")
    assert shape is not None and shape.labels == ("Batch", "SeqLen", "Features")
    assert match(shape, (32, 20, 10), {}, nothing).verdict == "passed"
    wrong = match(shape, (32, 20, 12), {}, nothing)
    assert wrong.verdict == "failed"
    assert "Features=10 but dimension 3 is 12" in wrong.message
    assert parse_named_dims("Batch size 1") is None


def test_literal_mismatch_fails_with_expected_and_found() -> None:
    shape = parse_shape("[16, 3]")
    assert shape is not None
    result = match(shape, (16, 4), {}, nothing)
    assert (result.verdict, result.expected, result.actual) == ("failed", "[16, 3]", "[16, 4]")
    assert result.message == "expected [16, 3], found [16, 4]: dimension 2 is 3, found 4"


def test_rank_mismatch_fails() -> None:
    shape = parse_shape("[batch, seq_len, d_k]")
    assert shape is not None
    result = match(shape, (8, 20), {}, nothing)
    assert result.verdict == "failed"
    assert "expected 3 dimensions [batch, seq_len, d_k], found 2: [8, 20]" in result.message


def test_a_name_binds_once_per_call() -> None:
    square = parse_shape("[n, n]")
    assert square is not None
    assert match(square, (3, 3), {}, nothing).verdict == "passed"
    result = match(square, (3, 4), {}, nothing)
    assert result.verdict == "failed"
    assert "dimension 2 is n = 3, found 4" in result.message
    assert "bindings: n=3" in result.message


def test_bindings_carry_across_claims_of_one_call() -> None:
    bindings: dict[str, int] = {}
    first, swapped = parse_shape("[batch, seq_len]"), parse_shape("[seq_len, batch]")
    assert first is not None and swapped is not None
    assert match(first, (8, 20), bindings, nothing).verdict == "passed"
    assert bindings == {"batch": 8, "seq_len": 20}
    result = match(swapped, (8, 20), bindings, nothing)
    assert result.verdict == "failed"
    assert result.expected == "[seq_len=20, batch=8]"
    assert "bindings: batch=8, seq_len=20" in result.message


def test_a_value_in_scope_wins_over_free_binding() -> None:
    shape = parse_shape("[batch, num_heads, seq_len, d_k]")
    assert shape is not None
    scope = {"num_heads": 8, "d_k": 64}
    assert match(shape, (4, 8, 30, 64), {}, scope.get).verdict == "passed"
    result = match(shape, (4, 8, 30, 32), {}, scope.get)
    assert result.verdict == "failed"
    assert "d_k=64 (in scope)" in result.message


def test_linear_expressions_are_solved() -> None:
    bindings: dict[str, int] = {}
    doubled, plain = parse_shape("[hidden_size*2]"), parse_shape("[hidden_size]")
    assert doubled is not None and plain is not None
    assert match(doubled, (512,), bindings, nothing).verdict == "passed"
    assert bindings == {"hidden_size": 256}
    assert match(plain, (255,), bindings, nothing).verdict == "failed"
    odd = match(doubled, (513,), {}, nothing)
    assert odd.verdict == "failed"
    assert "no integer value of hidden_size makes hidden_size*2 = 513" in odd.message


def test_two_unknowns_are_unchecked_never_passed() -> None:
    shape = parse_shape("[a*b]")
    assert shape is not None
    result = match(shape, (12,), {}, nothing)
    assert result.verdict == "unchecked"
    assert "cannot decide a*b = 12: 2 unknowns (a, b)" in result.message
    # once one of them is known the other is solved
    assert match(shape, (12,), {"a": 3}, nothing).verdict == "passed"


def test_failed_match_binds_nothing() -> None:
    bindings: dict[str, int] = {}
    shape = parse_shape("[x, 3]")
    assert shape is not None
    assert match(shape, (5, 4), bindings, nothing).verdict == "failed"
    assert bindings == {}
