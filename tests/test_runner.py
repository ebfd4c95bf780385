"""End to end: the lesson and wrong-claim variants of it, run in reader order on cpu."""

from __future__ import annotations

import pytest

from tests.lessons import check_text, failed_blocks, failed_claims, mutate
from tests.test_lesson import PYTHON_LINES

SHAPE_CLAIMS = [111, 240, 243, 246, 249, 260, 262, 315, 323, 324, 327, 334, 336, 365, 368, 372,
                373, 384, 386, 417, 439, 442, 443, 446, 450, 451, 452, 470, 471, 472, 477, 501,
                502, 536, 557, 559]  # fmt: skip


def test_the_lesson_passes(dl_source: str) -> None:
    result = check_text(dl_source)
    assert [line for line, per in result.blocks.items() if per["cpu"].status == "passed"] == (
        PYTHON_LINES
    )
    assert result.blocks[38]["cpu"].status == "not-run"
    verdicts = {line: per["cpu"].verdict for line, per in result.verdicts.items()}
    assert {line: verdicts.get(line) for line in SHAPE_CLAIMS} == dict.fromkeys(
        SHAPE_CLAIMS, "passed"
    )
    assert "failed" not in verdicts.values()
    # A function's claims are checked on every call: ScaledDotProductAttention runs twice.
    assert result.verdicts[470]["cpu"].checks == 2
    assert result.failures() == []


@pytest.mark.parametrize(
    ("line", "old", "new", "found"),
    [
        pytest.param(111, "# [1, 3]", "# [1, 4]", "found [1, 3]", id="changed-literal"),
        pytest.param(243, "-> [B, 64, 7, 7]", "-> [B, 64, 8, 8]", "after line 2", id="transition"),
        pytest.param(443, "[batch, seq_len]", "[seq_len, batch]", "batch=8", id="swapped-pair"),
        pytest.param(334, "Features=10", "Features=12", "Features=12", id="named-dimension"),
        pytest.param(442, "[batch, seq_len, 1]", "[batch, seq_len, 2]", "call from line 599",
                     id="class-called-later"),
        pytest.param(372, "hidden_size*2", "hidden_size*3", "no integer value of hidden_size",
                     id="linear-solve"),
    ],
)  # fmt: skip
def test_a_wrong_claim_fails_at_its_line_only(line: int, old: str, new: str, found: str) -> None:
    result = check_text(mutate(line, old, new))
    assert failed_claims(result) == [line]
    owner = next(c.block for c in result.claims if c.line == line)
    assert failed_blocks(result) == [owner]
    (message,) = result.failures()
    assert message.startswith(f"lessons/dl.md:{line}: [cpu] ")
    assert found in message
    assert "expected" in message or "no integer" in message


def test_swapped_pair_lists_every_binding() -> None:
    result = check_text(mutate(443, "[batch, seq_len]", "[seq_len, batch]"))
    (message,) = result.failures()
    assert "bindings: batch=8, seq_len=50" in message
    assert "found [8, 50]" in message


def test_syntax_error_is_reported_at_its_lesson_line() -> None:
    result = check_text(mutate(415, "torch.randn(32, 100, 1)", "torch.randn(32, 100, 1"))
    assert failed_blocks(result) == [393]
    error = result.blocks[393]["cpu"].error
    assert error is not None and error.type == "SyntaxError"
    assert error.line in (415, 416)
    assert failed_claims(result) == []
    assert result.verdicts[417]["cpu"].verdict == "not-run"


def test_exception_in_an_early_block_names_its_line_and_later_blocks_still_run() -> None:
    result = check_text(mutate(109, "torch.randn(1, 10)", "torch.randn(1, 11)"))
    assert failed_blocks(result) == [92]
    error = result.blocks[92]["cpu"].error
    # The line where it was raised (inside MLP.forward), and the call in the traceback.
    assert error is not None and (error.type, error.line) == ("RuntimeError", 105)
    assert 'lessons/dl.md", line 110' in error.traceback
    assert result.verdicts[111]["cpu"].verdict == "not-run"
    assert result.blocks[158]["cpu"].status == "passed"  # MLP was defined before the raise


def test_a_name_the_broken_block_should_have_defined_is_explained() -> None:
    result = check_text(mutate(93, "class MLP(nn.Module):", "class MLP(nn.Modul):"))
    assert failed_blocks(result) == [92, 158]
    error = result.blocks[158]["cpu"].error
    assert error is not None and error.type == "NameError"
    assert "defined by the block at line 92, which failed" in error.message
