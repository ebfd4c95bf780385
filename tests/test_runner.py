"""End to end: the lesson and wrong-claim variants of it, run in reader order on cpu."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.lesson import parse_lesson
from harness.runner import check_lesson
from tests.conftest import ROOT
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
    # formulas, named behaviours and counts (issue 4); comments that are prose
    required = [54, 55, 58, 109, 177, 178, 179, 184, 185, 216, 217, 218, 219, 415, 668, 669,
                687, 688, 689, 690, 705, 706, 709, 710, 717]  # fmt: skip
    assert {line: verdicts[line] for line in required} == dict.fromkeys(required, "passed")
    assert [line for line, v in verdicts.items() if v != "passed"] == [308]  # no variable Input
    assert result.verdicts[177]["cpu"].checks == 10  # every epoch's call
    prose = {c.text for c in result.prose}
    assert {"Used in Transformers", "Speech recognition"} <= prose
    assert result.coverage() == {
        "comments": 139, "claims": 63, "checked": 62, "unchecked": 1, "not_run": 0, "prose": 79,
    }  # fmt: skip


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


def test_wrong_formula_and_behaviour_claims_in_the_lesson_are_caught(dl_source: str) -> None:
    """One run, four wrong claims: each fails at its line, saying claimed and found."""
    source = mutate(688, "torch.sigmoid(x)", "torch.tanh(x)", dl_source)  # wrong formula
    source = mutate(219, "padding=1 ", "padding=0 ", source)  # under "# Same padding"
    source = mutate(58, "torch.randn(3, 4)", "torch.randn(4, 3)", source)  # "3x4" swapped
    source = mutate(184, "torch.randn(100, 10)", "torch.randn(10, 10)", source)  # "100 samples"
    result = check_text(source)
    messages = {line: text for text in result.failures() if (line := int(text.split(":")[1]))}
    # the conv that lost its padding also breaks the shape claims of the blocks after it
    assert set(failed_claims(result)) == {58, 184, 219, 688, 240, 243, 246}
    assert messages[688].startswith(
        "lessons/dl.md:688: [cpu] sigmoid: expected 1 / (1 + e^-x) element-wise, got 100 of 100"
    )
    assert messages[219] == (
        "lessons/dl.md:219: [cpu] self.conv1: expected the output's spatial size to equal the "
        "input's [28, 28], got [26, 26] (Conv2d with padding=(0, 0))"
    )
    assert messages[58] == "lessons/dl.md:58: [cpu] matrix: expected shape [3, 4], got shape [4, 3]"
    assert messages[184] == (
        "lessons/dl.md:184: [cpu] X_train: expected dimension 1 to be 100 (100 samples), got 10 "
        "(shape [10, 10])"
    )


# limits and isolation -----------------------------------------------------------------------


def _harness(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_block_that_hangs_exits_or_exhausts_memory_fails_at_its_line(tmp_path: Path) -> None:
    limits = "tests/samples/limits"
    start = time.perf_counter()
    done = _harness(
        limits,
        "--time-limit",
        "5",
        "--memory-limit",
        "800",
        "--devices",
        "cpu",
        "--json",
        str(tmp_path / "r.json"),
        HARNESS_CACHE_DIR=str(tmp_path / "cache"),
    )
    wall = time.perf_counter() - start
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if ": [cpu] " in line]
    assert failures == [
        f"{limits}/exits.md:10: [cpu] WorkerCrash: the process running the block exited with "
        "code 3",
        f"{limits}/memory.md:14: [cpu] MemoryError: out of memory: the block reached the memory "
        "limit of 800 MB (--memory-limit)",
        f"{limits}/sleeps.md:10: [cpu] TimeLimit: the block ran longer than 5 s",
    ]
    assert done.stdout.splitlines()[-1].startswith("5 passed, 3 failed, 2 not-run (blocks)")
    statuses = {
        (Path(lesson["path"]).stem, block["line"]): block["results"]["cpu"]["status"]
        for lesson in json.loads((tmp_path / "r.json").read_text())["lessons"]
        for block in lesson["blocks"]
    }
    assert statuses == {
        ("exits", 6): "passed",
        ("exits", 10): "failed",
        ("exits", 16): "not-run",
        ("good", 6): "passed",
        ("memory", 6): "passed",
        ("memory", 11): "failed",
        ("memory", 17): "passed",  # the process survived its memory running out
        ("sleeps", 6): "passed",
        ("sleeps", 10): "failed",
        ("sleeps", 17): "not-run",
    }
    print(f"limits sample: {wall:.1f} s")
    assert wall < 5 + 60  # one time limit, and four workers starting torch on a busy machine


def test_lesson_code_cannot_write_into_the_repository(tmp_path: Path) -> None:
    readme = ROOT / "README.md"
    before = (readme.read_bytes(), readme.stat().st_mtime_ns)
    new_file = ROOT / "tests" / "samples" / "limits" / "written-by-a-lesson.txt"
    lesson = tmp_path / "writes.md"
    lesson.write_text(
        f"```python\nopen({str(readme)!r}, 'a').close()\n```\n\n"  # line 2
        f"```python\nimport pathlib\npathlib.Path({str(new_file)!r}).write_text('x')\n```\n\n"
        f"```python\nimport os\nos.rename({str(readme)!r}, 'README.moved')\n```\n\n"  # line 12
        "```python\nimport torch\n"
        f"torch.save(torch.zeros(2), {str(new_file)!r})\n```\n\n"  # line 17
        "```python\nimport os\nimport torch\n\n"  # the temporary folder is the lesson's
        "with open('scratch.txt', 'w') as file:\n    file.write('kept')\n"
        "torch.save(torch.zeros(2), 'model.pt')\n"
        "print(open('scratch.txt').read(), os.path.exists('model.pt'))\n```\n\n"
        f"```python\nimport os\nos.chdir({str(ROOT)!r})\nopen('README.md', 'w')\n```\n"  # 33
    )
    done = _harness(str(lesson), "--devices", "cpu", "--no-cache", "--json", str(tmp_path / "r"))
    assert (readme.read_bytes(), readme.stat().st_mtime_ns) == before
    assert not new_file.exists()
    failures = [line for line in done.stdout.splitlines() if ": [cpu] " in line]
    refused = f"lesson code may not write inside {ROOT}, where harness was started"
    assert [line.split(": [cpu] ")[0] for line in failures] == [
        f"{lesson}:{n}" for n in (2, 7, 12, 17, 33)
    ]
    assert all(f"[cpu] PermissionError: [Errno 13] {refused}" in line for line in failures)
    assert failures[0].endswith(f": '{readme}'")
    (result,) = json.loads((tmp_path / "r").read_text())["lessons"]
    allowed = next(block for block in result["blocks"] if block["line"] == 20)
    assert allowed["results"]["cpu"]["stdout"] == "kept True\n"


def test_a_time_limit_directive_sets_that_blocks_limit() -> None:
    lesson = parse_lesson(
        "```python\nprint('quick')\n```\n\n"
        "<!-- harness: time-limit 1 -->\n```python\nimport time\n\ntime.sleep(60)\n```\n",
        "limited.md",
    )
    start = time.perf_counter()
    result = check_lesson(lesson, ["cpu"], time_limit=120)
    assert time.perf_counter() - start < 60
    assert result.blocks[1]["cpu"].status == "passed"
    error = result.blocks[6]["cpu"].error
    assert error is not None
    assert (error.type, error.message, error.line) == (
        "TimeLimit",
        "the block ran longer than 1 s",
        6,
    )


CLAIM_SAMPLES = ROOT / "tests" / "samples" / "claims"


def test_a_console_session_lesson_is_run_and_its_outputs_checked() -> None:
    source = (CLAIM_SAMPLES / "console.md").read_text(encoding="utf-8")
    result = check_text(source, "console.md")
    verdicts = {line: per["cpu"].verdict for line, per in result.verdicts.items()}
    assert verdicts == dict.fromkeys([11, 13, 15, 17, 25, 27, 30], "passed")
    assert {c.line: c.kind for c in result.claims} == {
        11: "shape", 13: "shape", 15: "output", 17: "output", 25: "output", 27: "shape",
        30: "output",
    }  # fmt: skip
    # as a console shows it: every expression statement's value
    assert result.blocks[22]["cpu"].stdout == "tensor(4.)\ntorch.Size([2, 2])\n0\n1\n"
    wrong = mutate(11, "torch.Size([5, 3, 4, 1])", "torch.Size([5, 3, 4, 2])", source)
    wrong = mutate(15, "0.0", "1.0", wrong)
    wrong = mutate(31, "1", "2", wrong)  # the second line of the output at 30
    failures = check_text(wrong, "console.md").failures()
    assert failures == [
        "console.md:11: [cpu] x.shape: expected [5, 3, 4, 2], found [5, 3, 4, 1]: dimension 4 "
        "is 2, found 1",
        "console.md:15: [cpu] print(x.sum().item()): expected output '1.0', got '0.0'",
        "console.md:30: [cpu] for i in range(2): expected output '0\\n2', got '0\\n1'",
    ]


def test_a_myst_lesson_is_run_and_checked() -> None:
    source = (CLAIM_SAMPLES / "myst.md").read_text(encoding="utf-8")
    result = check_text(source, "myst.md")
    assert {line: per["cpu"].verdict for line, per in result.verdicts.items()} == {
        15: "passed", 16: "passed", 20: "passed", 24: "passed",
    }  # fmt: skip
    wrong = mutate(15, "# [2, 4]", "# [2, 5]", source)
    wrong = mutate(24, "1 / (1 + e^-out)", "1 / (1 + e^out)", wrong)
    assert failed_claims(check_text(wrong, "myst.md")) == [15, 24]
