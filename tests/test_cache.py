"""The cache: an unchanged lesson is answered from ``.harness-cache/`` without a worker and
without importing torch; an edit runs again only the blocks it touches; ``--no-cache`` runs
everything; a damaged cache is ignored."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.claims import find_claims
from harness.lesson import parse_lesson
from harness.results import BlockResult
from harness.run import cache
from harness.static.depends import dependency_map
from tests.lessons import SMALL, mutate, once
from tests.paths import LESSON

# Runs ``harness check`` in a process that counts the workers it starts (new processes or
# forks of a warm process: the tests run with a shared one) and the other Python processes it
# starts (device discovery; ``platform.platform()`` runs ``uname -p`` for --json), and says
# whether torch was imported: a cached answer must do neither.
WRAPPER = """
import subprocess, sys, time
started = []
starting = []
class Counted(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        if sys.executable in list(args) and not starting:
            started.append(args)
        super().__init__(args, *rest, **kwargs)
subprocess.Popen = Counted
from harness.run import process
start_worker = process._start
def counted(*args, **kwargs):
    started.append("worker")
    starting.append(True)
    try:
        return start_worker(*args, **kwargs)
    finally:
        starting.pop()
process._start = counted
from harness.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
print(f"wrapper: {seconds:.3f} s, {len(started)} workers, torch {'torch' in sys.modules}")
sys.exit(code)
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != cache.ENVIRONMENT_VARIABLE}
    return {**env, **extra}


def harness(
    cwd: Path, *args: str, wrapped: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WRAPPER] if wrapped else [sys.executable, "-m", "harness.cli"]
    return subprocess.run(
        [*command, "check", *args],
        cwd=cwd,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def outcome(path: Path) -> dict[str, Any]:
    """What a results file says, without timings and without where each result came from."""
    (lesson,) = json.loads(path.read_text())["lessons"]
    blocks = {
        block["line"]: {
            device: {k: v for k, v in result.items() if k not in ("seconds", "cached")}
            for device, result in block["results"].items()
        }
        for block in lesson["blocks"]
    }
    return {"blocks": blocks, "claims": {c["line"]: c["results"] for c in lesson["claims"]}}


def cached_lines(path: Path) -> list[int]:
    (lesson,) = json.loads(path.read_text())["lessons"]
    return [b["line"] for b in lesson["blocks"] if b["results"]["cpu"].get("cached")]


@pytest.fixture(scope="module")
def checked_once() -> Path:
    """A copy of lessons/dl.md checked once per test session (devices: all): its cache is
    filled, first.json holds what a full run gives."""

    def check(folder: Path) -> None:
        shutil.copy(LESSON, folder / "dl.md")
        done = harness(folder, "dl.md", "--json", "first.json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "dl.md: 17 blocks ran, 0 from the cache" in done.stdout.splitlines()

    return once("checked-dl", check)


@pytest.fixture
def work(checked_once: Path, tmp_path: Path) -> Path:
    """This test's own copy of the checked lesson and its cache (same lesson path: dl.md)."""
    return Path(shutil.copytree(checked_once, tmp_path / "work"))


def test_an_unchanged_lesson_is_answered_from_the_cache_without_torch(work: Path) -> None:
    """What happened, not how fast: no worker started and torch never imported (timings
    are the benchmarks' business: tests/benchmarks/test_check_overhead.py)."""
    done = harness(work, "dl.md", "--json", "second.json", wrapped=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "dl.md: 0 blocks ran, 17 from the cache" in lines
    assert lines[-2].startswith("17 passed, 0 failed, 1 skipped (blocks); claims: 62 passed")
    report = lines[-1]  # wrapper: 0.123 s, 0 workers, torch False
    assert report.endswith(", 0 workers, torch False"), report
    assert outcome(work / "second.json") == outcome(work / "first.json")
    assert len(cached_lines(work / "second.json")) == 17


def test_an_edited_comment_runs_the_lesson_again_in_reader_order(work: Path) -> None:
    lesson = work / "dl.md"
    # the claim inside Attention.forward (block 426), checked where block 566 calls it
    lesson.write_text(mutate(442, "# [batch, seq_len, 1]", "# (batch, seq_len, 1)"))
    done = harness(work, "dl.md", "--devices", "cpu", "--json", "edited.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dl.md: 17 blocks ran, 0 from the cache" in done.stdout.splitlines()
    # the edit changes no verdict: a full run of the lesson before it (first.json) is a full
    # run of this one
    assert outcome(work / "edited.json") == outcome(work / "first.json")
    claim = outcome(work / "edited.json")["claims"][442]["cpu"]
    assert (claim["verdict"], claim["checks"]) == ("passed", 1)
    again = harness(work, "dl.md", "--devices", "cpu", wrapped=True)
    assert "dl.md: 0 blocks ran, 17 from the cache" in again.stdout.splitlines()
    assert again.stdout.splitlines()[-1].endswith(", 0 workers, torch False")


def test_an_edited_claim_runs_the_lesson_up_to_its_block_the_rest_from_the_cache(
    work: Path,
) -> None:
    """A top-level claim in block 44 made wrong: blocks up to 44 run (only 44), the 16 after
    it are answered from the cache, and every verdict is the one a full run gives."""
    (work / "dl.md").write_text(mutate(58, "Random 3x4 matrix", "Random 3x5 matrix"))
    done = harness(work, "dl.md", "--devices", "cpu", "--json", "edited.json")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = _plain(done.stdout)
    assert lines[0] == "dl.md:58: [cpu] matrix: expected shape [3, 5], got shape [3, 4]"
    assert "dl.md: 1 block ran, 16 from the cache" in lines
    assert cached_lines(work / "edited.json") == PYTHON[1:]
    full = harness(work, "dl.md", "--devices", "cpu", "--no-cache", "--json", "full.json")
    assert full.returncode == 1, full.stdout + full.stderr
    assert outcome(work / "edited.json") == outcome(work / "full.json")


CRASH = """\
```python
import os
x = 1  # the first block
if "CR" + "ASH!" in open({path!r}).read():
    os._exit(3)
```

```python
y = x + 1
print(y)
```
"""


def test_a_partial_run_that_ends_early_runs_the_whole_lesson(tmp_path: Path) -> None:
    """A comment edit in block 1 leaves block 2's key as it was; when block 1 now ends its
    worker, block 2 is not run, as in a reader's run, not served passed from the cache."""
    first = CRASH.format(path=str(tmp_path / "l.md"))
    edited = first.replace("# the first block", "# the first block CRASH!")
    incremental, full = _edit_and_compare(tmp_path, first, edited)
    assert "l.md: 1 block ran, 0 from the cache" in incremental  # block 2 did not run
    assert _verdicts(incremental) == _verdicts(full)
    assert _verdicts(full)[-1].startswith("0 passed, 1 failed, 1 not-run (blocks)"), full


def test_a_claim_made_wrong_is_caught_not_served_from_the_cache(work: Path) -> None:
    lesson = work / "dl.md"
    lesson.write_text(mutate(442, "[batch, seq_len, 1]", "[batch, seq_len, 2]"))
    done = harness(work, "dl.md", "--devices", "cpu")
    assert done.returncode == 1
    lines = _plain(done.stdout)
    assert lines[0].startswith(
        "dl.md:442: [cpu] scores: expected [batch, seq_len, 2], found [8, 50, 1]"
    )
    assert lines[0].endswith("(in the call from line 599)")
    assert "dl.md: 17 blocks ran, 0 from the cache" in lines  # reader order, in full
    assert lines[-1].startswith("16 passed, 1 failed, 1 skipped (blocks)")
    again = harness(work, "dl.md", "--devices", "cpu")  # the failure is cached as a failure
    assert again.returncode == 1 and _plain(again.stdout)[0] == lines[0]
    assert "dl.md: 0 blocks ran, 17 from the cache" in again.stdout.splitlines()
    shutil.copy(LESSON, lesson)  # put right: the entries of the original lesson answer
    fixed = harness(work, "dl.md", "--devices", "cpu")
    assert fixed.returncode == 0
    assert "dl.md: 17 blocks ran, 0 from the cache" in fixed.stdout.splitlines()


def test_no_cache_runs_everything_and_refreshes_the_cache(tmp_path: Path) -> None:
    (tmp_path / "small.md").write_text(SMALL)
    elsewhere = tmp_path / "elsewhere"
    args = ("small.md", "--devices", "cpu")
    for _ in range(2):  # with nothing stored, then with everything stored
        forced = harness(
            tmp_path, *args, "--no-cache", wrapped=True, HARNESS_CACHE_DIR=str(elsewhere)
        )
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert "small.md: 2 blocks ran, 0 from the cache" in forced.stdout.splitlines()
        # the wrapper counts a worker forked from the tests' shared warm process too
        assert forced.stdout.splitlines()[-1].endswith(", 1 workers, torch False")
    assert not (tmp_path / ".harness-cache").exists()
    assert (elsewhere / ".gitignore").read_text().endswith("*\n")
    later = harness(tmp_path, *args, wrapped=True, HARNESS_CACHE_DIR=str(elsewhere))
    assert "small.md: 0 blocks ran, 2 from the cache" in later.stdout.splitlines()
    assert later.stdout.splitlines()[-1].endswith(", 0 workers, torch False")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: "\x00{not json", id="not-json"),
        pytest.param(lambda text: json.dumps([1, 2]), id="a-list"),
        pytest.param(lambda text: text[: len(text) // 2], id="cut-short"),
        pytest.param(
            lambda text: json.dumps({"schema": cache.SCHEMA, "blocks": {"k": 3}}), id="bad-entry"
        ),
        pytest.param(lambda text: "[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param(lambda text: json.dumps({"schema": cache.SCHEMA, "blocks": 7}), id="blocks-7"),
    ],
)
def test_a_damaged_cache_file_is_ignored(tmp_path: Path, damage: Any) -> None:
    (tmp_path / "small.md").write_text(SMALL)
    assert harness(tmp_path, "small.md").returncode == 0
    for stored in (tmp_path / ".harness-cache").glob("*.json"):  # blocks and devices
        stored.write_text(damage(stored.read_text()))
    done = harness(tmp_path, "small.md")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "small.md: 2 blocks ran, 0 from the cache" in done.stdout.splitlines()
    (warning,) = done.stderr.splitlines()  # one line for the run, however many files
    assert "damaged cache file ignored" in warning and "Traceback" not in done.stderr
    repaired = harness(tmp_path, "small.md", wrapped=True)
    assert "small.md: 0 blocks ran, 2 from the cache" in repaired.stdout.splitlines()
    assert repaired.stdout.splitlines()[-1].endswith(", 0 workers, torch False")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("result", "damaged"),
        ("status", ["passed"]),
        ("status", "green"),
        ("seconds", "fast"),
        ("error", {"type": 3, "message": "m", "line": 1, "traceback": ""}),
        ("census", {"cpu": "all"}),
        ("losses", "falling"),
        ("losses", [1.0, "nan"]),
        ("claims", {"9": {"verdict": "passed", "checks": "many"}}),
        ("claims", {"9": {"verdict": "maybe"}}),
    ],
)
def test_an_entry_of_wrong_types_runs_the_lesson_again(
    tmp_path: Path, field: str, value: object
) -> None:
    """A damaged entry (wrong types, unknown statuses) is one warning, never a traceback and
    never a verdict: in reader order the lesson runs again in full."""
    (tmp_path / "small.md").write_text(SMALL)
    harness(tmp_path, "small.md", "--devices", "cpu")
    (stored,) = (tmp_path / ".harness-cache").glob("blocks-*.json")
    document = json.loads(stored.read_text())
    entry = next(e for e in document["blocks"].values() if e["line"] == 7)
    if field in ("result", "claims"):
        entry[field] = value
    else:
        entry["result"][field] = value
    stored.write_text(json.dumps(document))
    done = harness(tmp_path, "small.md", "--devices", "cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "small.md: 2 blocks ran, 0 from the cache" in done.stdout.splitlines()
    (warning,) = done.stderr.splitlines()
    assert warning.endswith("damaged cache file ignored (a damaged entry); its blocks run again")


def test_an_entry_keeps_a_training_loops_losses() -> None:
    result = BlockResult("passed", 0.1, "", census={"cpu": 1.0})
    result.losses = [2.5, 2.25, float("nan")]
    entry = cache.Entry(9, result, {})
    again = cache.Entry.from_json(json.loads(json.dumps(entry.to_json())))
    assert again.result.losses[:2] == [2.5, 2.25] and again.result.cached
    assert str(again.result.losses[2]) == "nan"


# keys, in this process --------------------------------------------------------------------


def _keys(
    source: str, device: str = "cpu", time_limit: float = 300.0, mode: str = "isolated"
) -> dict[int, str]:
    lesson = parse_lesson(source, "lessons/dl.md")
    deps = dependency_map(lesson)
    keys = cache.block_keys(lesson, find_claims(lesson), deps, device, mode, time_limit, 0)
    assert keys is not None
    return keys


def _changed(before: dict[int, str], after: dict[int, str]) -> list[int]:
    assert before.keys() == after.keys()
    return [line for line in before if before[line] != after[line]]


PYTHON = [44, 70, 92, 127, 158, 205, 267, 294, 343, 393, 426, 461, 509, 566, 607, 680, 703]


def test_reader_keys_cover_the_code_of_every_earlier_block(dl_source: str) -> None:
    """In reader order a block sees all the code that ran before it: a code edit changes the
    key of its block and of every later one, never of an earlier one. A comment reaches later
    blocks only as a claim inside a function (checked where it is called): a comment or a
    top-level claim changes its own block's key alone."""
    keys = _keys(dl_source, mode="reader")
    assert _keys(dl_source, mode="reader") == keys
    assert _changed(keys, _keys(dl_source)) == PYTHON  # the mode is in the key
    prose = mutate(441, "attention scores", "the scores")  # a comment inside forward
    assert _changed(keys, _keys(prose, mode="reader")) == [426]
    top_level_claim = mutate(58, "Random 3x4 matrix", "Random 3x5 matrix")
    assert _changed(keys, _keys(top_level_claim, mode="reader")) == [44]
    in_forward = mutate(442, "[batch, seq_len, 1]", "[batch, seq_len, 2]")
    assert _changed(keys, _keys(in_forward, mode="reader")) == [n for n in PYTHON if n >= 426]
    code = mutate(442, "scores = self.attention", "scores = 1 * self.attention")
    assert _changed(keys, _keys(code, mode="reader")) == [n for n in PYTHON if n >= 426]
    assert (
        _changed(keys, _keys(mutate(45, "import torch", "import torch as torch"), mode="reader"))
        == PYTHON
    )
    assert _changed(keys, _keys(dl_source, time_limit=10.0, mode="reader")) == PYTHON


def test_isolated_keys_change_only_for_the_blocks_an_edit_touches(dl_source: str) -> None:
    keys = _keys(dl_source)
    assert _keys(dl_source) == keys
    claim = mutate(442, "[batch, seq_len, 1]", "[batch, seq_len, 2]")
    assert _changed(keys, _keys(claim)) == [426, 566]  # 566 calls Attention.forward
    code = mutate(436, "nn.Linear(hidden_size, 1)", "nn.Linear(hidden_size, 1, bias=False)")
    assert _changed(keys, _keys(code)) == [426, 566]
    imports = mutate(427, "import torch", "import torch as torch")
    assert _changed(keys, _keys(imports)) == [426, 461, 509, 566]  # all three import it
    prose = mutate(441, "attention scores", "the scores")
    assert _changed(keys, _keys(prose)) == [426]
    lines = dl_source.splitlines(keepends=True)
    assert lines[424] == "\n" and lines[425] == "```python\n"
    lines[424] = '<!-- harness: skip "no attention today" -->\n'  # no line moves
    directive = "".join(lines)
    # the block's key, and the keys of blocks whose snippets hold its statements
    assert _changed(keys, _keys(directive)) == [426, 461, 509, 566]
    assert _changed(keys, _keys(dl_source, time_limit=10.0)) == list(keys)
    assert _changed(keys, _keys(dl_source, device="cuda")) == list(keys)


def test_keys_follow_the_environment(dl_source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = _keys(dl_source)
    fresh = cache.environment_key.__wrapped__
    monkeypatch.setattr(cache, "environment_key", fresh)
    assert _keys(dl_source) == keys
    monkeypatch.setattr(cache, "_torch_version", lambda: "9.9.9")
    assert _changed(keys, _keys(dl_source)) == list(keys)
    monkeypatch.undo()
    monkeypatch.setattr(cache, "environment_key", fresh)
    monkeypatch.setattr(cache, "source_hash", lambda: "an edited harness")
    assert _changed(keys, _keys(dl_source)) == list(keys)


def test_keys_follow_what_torch_reads_not_where_it_keeps_compiled_kernels(
    dl_source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optimizer's first step sets TORCHINDUCTOR_CACHE_DIR in its process: a checker
    that had run torch (pytest with the plugin) missed every entry a fresh one wrote."""
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    keys = _keys(dl_source)
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/tmp/torchinductor_someone")
    assert _changed(keys, _keys(dl_source)) == []
    monkeypatch.setenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "1")  # read by torch: it counts
    assert _changed(keys, _keys(dl_source)) == list(keys)


GLOBAL_STATE = """\
```python
import torch
torch.set_default_dtype(torch.float32)
```

```python
import torch
x = torch.ones(2)
assert x.dtype == torch.float32, x.dtype
```
"""

MUTATION = """\
```python
import torch
data = [torch.ones(2)]
```

```python
def grow(items):
    items.append(torch.ones(3))

grow(data)
```

```python
y = data[-1] * 1  # [3]
```
"""


def _edit_and_compare(tmp_path: Path, first: str, edited: str) -> tuple[str, str]:
    """Check ``first``, then ``edited`` incrementally and with --no-cache: their stdouts."""
    (tmp_path / "l.md").write_text(first, encoding="utf-8")
    harness(tmp_path, "l.md", "--devices", "cpu")
    (tmp_path / "l.md").write_text(edited, encoding="utf-8")
    incremental = harness(tmp_path, "l.md", "--devices", "cpu")
    full = harness(tmp_path, "l.md", "--devices", "cpu", "--no-cache")
    return incremental.stdout, full.stdout


PROGRESS = re.compile(r".* \(\d+\.\d\ds\)|_+ .* _+")  # a lesson's progress line, a rule


def _plain(stdout: str) -> list[str]:
    """The lines that say what was found: progress lines (their times differ) and rules out."""
    return [line for line in stdout.splitlines() if not PROGRESS.fullmatch(line)]


def _verdicts(stdout: str) -> list[str]:
    return [line for line in _plain(stdout) if "from the cache" not in line]


def test_an_edit_to_process_wide_state_reaches_later_blocks(tmp_path: Path) -> None:
    """A later block that imports torch again still meets the earlier set_default_dtype."""
    edited = GLOBAL_STATE.replace("torch.float32)\n```", "torch.float64)\n```", 1)
    incremental, full = _edit_and_compare(tmp_path, GLOBAL_STATE, edited)
    assert "l.md: 2 blocks ran, 0 from the cache" in incremental
    assert _verdicts(incremental) == _verdicts(full)
    assert "l.md:9: [cpu] AssertionError: torch.float64" in incremental


def test_an_edited_block_meets_the_state_earlier_blocks_left(tmp_path: Path) -> None:
    """Block 2 alone would see float32; after block 1 it sees float64, as a reader does."""
    edited = GLOBAL_STATE.replace("torch.float32)\n```", "torch.float64)\n```", 1)
    first = edited.replace("assert x.dtype == torch.float32, x.dtype", "z = 1")
    incremental, full = _edit_and_compare(tmp_path, first, edited)
    # the edited block failed when re-run: the lesson ran again in full, in reader order
    assert "l.md: 2 blocks ran, 0 from the cache" in incremental
    assert _verdicts(incremental) == _verdicts(full)
    assert "l.md:9: [cpu] AssertionError: torch.float64" in incremental


def test_a_change_made_through_a_function_call_is_a_dependency(tmp_path: Path) -> None:
    """grow(data) changes data: the block reading data[-1] depends on it; no false failure."""
    edited = MUTATION.replace("y = data[-1] * 1  # [3]", "y = data[-1] * 2  # [3]")
    incremental, full = _edit_and_compare(tmp_path, MUTATION, edited)
    assert _verdicts(incremental) == _verdicts(full)
    assert _verdicts(incremental)[-1].startswith("3 passed, 0 failed (blocks)")


# a re-check answered from the cache gives the verdicts of a full reader-order run -----------

STALE_CASES = {
    "a global reassigned after the function that reads it": (
        """\
```python
import torch
scale = 2

def make():
    return torch.zeros(scale, 3)
```

```python
note = "nothing yet"
```

```python
x = make()  # [2, 3]
```
""",
        ('note = "nothing yet"', "scale = 5"),
        "x: expected [2, 3], found [5, 3]",
    ),
    "an alias mutated in place": (
        """\
```python
import torch
x = torch.zeros(2, 3)
```

```python
y = x
```

```python
print(x.shape)  # [2, 3]
```
""",
        ("y = x\n", "y = x\ny.unsqueeze_(0)\n"),
        "x.shape: expected 2 dimensions [2, 3], found 3: [1, 2, 3]",
    ),
    "setattr on a module": (
        """\
```python
import torch
import torch.nn as nn
```

```python
patched = False
```

```python
out = nn.Linear(4, 2)(torch.zeros(3, 4))  # [3, 2]
```
""",
        ("patched = False", 'setattr(nn, "Linear", lambda a, b: nn.Identity())'),
        "out: expected [3, 2], found [3, 4]",
    ),
    "exec": (
        """\
```python
import torch
x = torch.zeros(2, 3)
```

```python
code = "pass"
```

```python
print(x.shape)  # [2, 3]
```
""",
        ('code = "pass"', 'exec("x = torch.zeros(5)")'),
        "x.shape: expected 2 dimensions [2, 3], found 1: [5]",
    ),
    # comment edits that keep the line count: what they change reaches a later block
    "a layer claim checked where a later block calls the layer": (
        """\
```python
import torch
from torch import nn
model = nn.Sequential(
    nn.Conv2d(1, 4, 3),  # 4 filters
    nn.ReLU(),
)
```

```python
y = model(torch.zeros(1, 1, 8, 8))
```
""",
        ("# 4 filters", "# 4 filters, same padding"),
        "expected the output's spatial size to equal the input's [8, 8], got [6, 6]",
    ),
    "a doctest's expected exception, after which the session goes on": (
        """\
```python
>>> x = 1
>>> y = int("seven")
ValueError: invalid literal for int() with base 10
>>> x = 2
```

```python
>>> print(x)
2
```
""",
        ("ValueError: invalid literal for int() with base 10", "7"),
        "l.md:10: [cpu] print(x): expected output '2', got '1'",
    ),
    "a TorchScript type comment": (
        """\
```python
import torch

def scale(x, n):
    # type: (Tensor, int) -> Tensor
    return x * n
```

```python
scripted = torch.jit.script(scale)
```
""",
        ("(Tensor, int)", "(Tensor, str)"),
        "l.md:10: [cpu] RuntimeError",
    ),
}


@pytest.mark.parametrize("case", list(STALE_CASES))
def test_a_recheck_is_never_more_optimistic_than_reader_order(case: str, tmp_path: Path) -> None:
    """Each edit changes what a later, unedited block meets; before, the later block's pass
    was served from the cache while a reader's run fails."""
    first, (old, new), failure = STALE_CASES[case]
    assert old in first
    incremental, full = _edit_and_compare(tmp_path, first, first.replace(old, new, 1))
    assert failure in full, full
    assert _verdicts(incremental) == _verdicts(full)


ENVIRONMENT = """\
```python
import os
import torch
rows = int(os.environ.get("LESSON_ROWS", "2"))
x = torch.zeros(rows, 3)  # [2, 3]
```
"""


def test_an_environment_variable_the_lesson_reads_is_in_the_key(tmp_path: Path) -> None:
    (tmp_path / "l.md").write_text(ENVIRONMENT)
    assert harness(tmp_path, "l.md", "--devices", "cpu").returncode == 0
    changed = harness(tmp_path, "l.md", "--devices", "cpu", LESSON_ROWS="5")
    assert changed.returncode == 1, changed.stdout
    assert "l.md:5: [cpu] x: expected [2, 3], found [5, 3]" in changed.stdout
    assert "l.md: 1 block ran, 0 from the cache" in changed.stdout.splitlines()


def test_a_lesson_reading_the_whole_environment_always_runs(tmp_path: Path) -> None:
    (tmp_path / "l.md").write_text("```python\nimport os\nsettings = dict(os.environ)\n```\n")
    for _ in range(2):
        done = harness(tmp_path, "l.md", "--devices", "cpu")
        assert "l.md: 1 block ran, 0 from the cache" in done.stdout.splitlines()


HELPER = "import torch\n\ndef make():\n    return torch.zeros(2, 3)\n"
USES_HELPER = """\
```python
from shapes_helper import make
x = make()  # [2, 3]
```
"""


def test_an_edited_local_module_is_in_the_key(tmp_path: Path) -> None:
    """A module beside the lesson (imported from the folder harness was started in)."""
    (tmp_path / "shapes_helper.py").write_text(HELPER)
    (tmp_path / "l.md").write_text(USES_HELPER)
    first = harness(tmp_path, "l.md", "--devices", "cpu")
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / "shapes_helper.py").write_text(HELPER.replace("(2, 3)", "(4, 3)"))
    edited = harness(tmp_path, "l.md", "--devices", "cpu")
    assert edited.returncode == 1, edited.stdout
    assert "l.md:3: [cpu] x: expected [2, 3], found [4, 3]" in edited.stdout
