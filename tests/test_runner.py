"""End to end: the lesson and wrong-claim variants of it, run in reader order on cpu."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.lesson import parse_lesson
from harness.results import LessonResult
from harness.run import warm
from harness.run.runner import check_lesson
from tests.lessons import (
    FIVE_WRONG,
    TRAINING,
    check_text,
    failed_blocks,
    failed_claims,
    interrupt_once_marked,
    mutate,
    mutated,
    without_training,
)
from tests.lessons import harness_check as _harness
from tests.paths import ROOT
from tests.test_lesson import PYTHON_LINES

SHAPE_CLAIMS = [111, 240, 243, 246, 249, 260, 262, 315, 323, 324, 327, 334, 336, 365, 368, 372,
                373, 384, 386, 417, 439, 442, 443, 446, 450, 451, 452, 470, 471, 472, 477, 501,
                502, 536, 557, 559]  # fmt: skip


def test_the_lesson_passes(dl_result: LessonResult) -> None:
    result = dl_result
    assert [line for line, per in result.blocks.items() if per["cpu"].status == "passed"] == (
        PYTHON_LINES
    )
    assert result.blocks[38]["cpu"].status == "skipped"  # the bash fence: not Python
    assert result.blocks[38]["cpu"].reason == "a bash fence: only Python blocks are run"
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


WRONG_CLAIMS = {  # one run each; a run's claims are in different blocks and each changes a
    # comment, never the code that runs: they are independent (line, claim, made wrong, said)
    "five-blocks": FIVE_WRONG,  # the run test_report's mutated lesson reads too
    "class-called-later": [  # in the block of line 443
        (442, "[batch, seq_len, 1]", "[batch, seq_len, 2]", ["call from line 599"]),
    ],
}  # fmt: skip


@pytest.mark.parametrize("wrong", list(WRONG_CLAIMS.values()), ids=list(WRONG_CLAIMS))
def test_a_wrong_claim_fails_at_its_line_only(
    wrong: list[tuple[int, str, str, list[str]]], dl_source: str
) -> None:
    """Each wrong claim fails at its own line with one message and fails the block that
    holds it; nothing else fails."""
    result = check_text(mutated(wrong, without_training(dl_source)))
    assert result.blocks[TRAINING]["cpu"].status == "skipped"  # a text fence now: said, not run
    lines = sorted(line for line, *_ in wrong)
    assert failed_claims(result) == lines
    assert failed_blocks(result) == sorted({c.block for c in result.claims if c.line in lines})
    messages = {int(text.split(":")[1]): text for text in result.failures()}
    assert len(result.failures()) == len(messages) == len(lines)  # one message each
    for line, _, _, said in wrong:
        message = messages[line]
        assert message.startswith(f"lessons/dl.md:{line}: [cpu] "), message
        assert [part for part in said if part not in message] == [], message
        assert "expected" in message or "no integer" in message, message


def test_syntax_error_is_reported_at_its_lesson_line(dl_source: str) -> None:
    lesson = without_training(dl_source)
    result = check_text(mutate(415, "torch.randn(32, 100, 1)", "torch.randn(32, 100, 1", lesson))
    assert failed_blocks(result) == [393]
    error = result.blocks[393]["cpu"].error
    assert error is not None and error.type == "SyntaxError"
    assert error.line in (415, 416)
    assert failed_claims(result) == []
    assert result.verdicts[417]["cpu"].verdict == "not-run"


def test_exception_in_an_early_block_names_its_line_and_later_blocks_still_run(
    dl_source: str,
) -> None:
    lesson = without_training(dl_source)
    result = check_text(mutate(109, "torch.randn(1, 10)", "torch.randn(1, 11)", lesson))
    assert failed_blocks(result) == [92]
    error = result.blocks[92]["cpu"].error
    # The line where it was raised (inside MLP.forward), and the call in the traceback.
    assert error is not None and (error.type, error.line) == ("RuntimeError", 105)
    assert 'lessons/dl.md", line 110' in error.traceback
    assert result.verdicts[111]["cpu"].verdict == "not-run"
    assert result.blocks[158]["cpu"].status == "passed"  # MLP was defined before the raise


def test_a_name_the_broken_block_should_have_defined_is_explained(dl_source: str) -> None:
    lesson = without_training(dl_source)
    result = check_text(mutate(93, "class MLP(nn.Module):", "class MLP(nn.Modul):", lesson))
    assert failed_blocks(result) == [92, 158]
    error = result.blocks[158]["cpu"].error
    assert error is not None and error.type == "NameError"
    assert "defined by the block at line 92, which failed" in error.message


def test_wrong_formula_and_behaviour_claims_in_the_lesson_are_caught(dl_source: str) -> None:
    """One run, four wrong claims: each fails at its line, saying claimed and found."""
    source = without_training(dl_source)  # its subject: blocks other than the training
    source = mutate(688, "torch.sigmoid(x)", "torch.tanh(x)", source)  # wrong formula
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
        "lessons/dl.md:184: [cpu] X_train: expected dim 0 to be 100 (100 samples), got 10 "
        "(shape [10, 10])"
    )


# limits and isolation -----------------------------------------------------------------------


def test_a_block_that_hangs_exits_or_exhausts_memory_fails_at_its_line(tmp_path: Path) -> None:
    limits = "tests/samples/limits"
    start = time.perf_counter()
    done = _harness(  # sleeps.md's own directive limits its block to 5 s: no worker start
        limits,  # (torch's import: seconds on a busy machine) counts against so short a limit
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
        f"{limits}/sleeps.md:11: [cpu] TimeLimit: the block ran longer than 5 s (the blocks "
        "after it ran in a new worker, from line 18)",
    ]  # a crash ends its lesson's run; after a time limit, a new worker runs the rest
    assert done.stdout.splitlines()[-1].startswith("6 passed, 3 failed, 1 not-run (blocks)")
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
        ("sleeps", 11): "failed",
        ("sleeps", 18): "passed",  # resumed in a new worker after block 11's time limit
    }
    print(f"limits sample: {wall:.1f} s")  # what happened is asserted above, not how fast


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
        "console.md:11: [cpu] x.shape: expected [5, 3, 4, 2], found [5, 3, 4, 1]: dim 3 "
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


# the worker's life: no green without a run, a check always ends (issue 11, items 2 and 3) --

FAILING_SECOND = (
    "```python\nx = 1\n```\n\n"  # line 1
    "```python\nimport torch\ny = torch.zeros(2, 3)  # [2, 4]\n```\n\n"  # line 5
    "```python\nz = 3\n```\n"  # line 10
)


@pytest.mark.parametrize("seconds", [0.0, 0.001])
def test_a_worker_that_never_reaches_a_block_fails_it_with_the_reason(seconds: float) -> None:
    """A limit too small for the worker even to start: a TimeLimit failure, never a green."""
    lesson = parse_lesson(FAILING_SECOND, "short.md")
    result = check_lesson(lesson, ["cpu"], time_limit=seconds)
    error = result.blocks[1]["cpu"].error
    assert error is not None and (error.type, error.line) == ("TimeLimit", 1)
    assert f"did not start the block within {seconds:g} s" in error.message
    assert [result.blocks[line]["cpu"].status for line in (1, 5, 10)] == [
        "failed",
        "not-run",
        "not-run",
    ]
    assert result.failures()[0].startswith("short.md:1: [cpu] TimeLimit: ")


def _fake_worker(tmp_path: Path, events: list[str], code: int) -> str:
    """An executable standing in for ``python -m harness.run.worker FD``: it writes ``events``
    to FD and exits with ``code``."""
    script = tmp_path / "fake-python"
    script.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"fd = int(sys.argv[-1])\nfor event in {events!r}:\n"
        "    os.write(fd, event.encode() + b'\\n')\n"
        f"os._exit({code})\n"
    )
    script.chmod(0o755)
    return str(script)


PASSED = json.dumps({"status": "passed"})


@pytest.mark.parametrize(
    ("events", "code", "blamed", "how"),
    [
        pytest.param([], 0, 1, "exited with code 0 before the block started", id="silent"),
        pytest.param([], 7, 1, "exited with code 7 before the block started", id="at-start"),
        pytest.param(
            ['{"available": ["cpu"]}', '{"start": 1}', f'{{"block": 1, "result": {PASSED}, '
             '"claims": {}}', "not an event", "[1, 2]"],
            0, 5, "exited with code 0 before the block started", id="between-blocks",
        ),
        pytest.param(
            ['{"available": ["cpu"]}', '{"start": 1}'], 0, 1,
            "the process running the block exited with code 0", id="during-a-block",
        ),
    ],
)  # fmt: skip
def test_a_worker_that_ends_before_its_last_block_fails_the_first_block_it_did_not_finish(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    events: list[str],
    code: int,
    blamed: int,
    how: str,
) -> None:
    monkeypatch.delenv(warm.ADDRESS, raising=False)  # a worker process of its own
    monkeypatch.setattr(sys, "executable", _fake_worker(tmp_path, events, code))
    result = check_lesson(parse_lesson(FAILING_SECOND, "short.md"), ["cpu"], time_limit=60)
    statuses = {line: per["cpu"].status for line, per in result.blocks.items()}
    assert statuses[blamed] == "failed"
    assert [s for line, s in statuses.items() if line > blamed] == ["not-run"] * (
        len(statuses) - list(statuses).index(blamed) - 1
    )
    error = result.blocks[blamed]["cpu"].error
    assert error is not None and (error.type, error.line) == ("WorkerCrash", blamed)
    assert how in error.message


def test_a_large_request_to_a_worker_that_dies_at_once_is_that_workers_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request (the lesson's source) reaches the worker through a file: a worker that
    dies before reading it cannot break a pipe under the harness (BrokenPipeError)."""
    monkeypatch.delenv(warm.ADDRESS, raising=False)  # a worker process of its own
    monkeypatch.setattr(sys, "executable", _fake_worker(tmp_path, [], 7))
    source = "```python\n" + "x = 1\n" * 20_000 + "```\n"  # 120 KB: past a pipe's 64 KB
    result = check_lesson(parse_lesson(source, "large.md"), ["cpu"], time_limit=60)
    error = result.blocks[1]["cpu"].error
    assert error is not None and error.type == "WorkerCrash"
    assert "exited with code 7 before the block started" in error.message


def test_a_worker_that_cannot_be_started_fails_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(warm.ADDRESS, raising=False)  # a worker process of its own
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    result = check_lesson(parse_lesson(FAILING_SECOND, "short.md"), ["cpu"])
    error = result.blocks[1]["cpu"].error
    assert error is not None and error.type == "WorkerCrash"
    assert "the worker process could not be started: No such file" in error.message


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _session(group: int) -> list[int]:
    """The processes of process group ``group`` still running (zombies are not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


LEFTOVERS = """# Leaves threads and processes behind

```python
import os
import subprocess
import threading
import time

child = subprocess.Popen(["sleep", "1000"])
os.system("sleep 1000 &")  # a shell's child: it inherits every descriptor


def forever():
    while True:
        time.sleep(0.1)


threading.Thread(target=forever).start()  # not a daemon: the interpreter waits for it
forked = os.fork()
if forked == 0:  # the copy runs on, holding everything the worker held
    time.sleep(1000)
print(os.getpid(), child.pid, forked)
```

```python
import torch

y = torch.zeros(2, 3)  # [2, 4]
```
"""


def test_a_lesson_that_leaves_threads_and_processes_behind_still_ends(tmp_path: Path) -> None:
    lesson = tmp_path / "leftovers.md"
    lesson.write_text(LEFTOVERS)
    done = _harness(
        str(lesson), "--devices", "cpu", "--no-cache", "--json", str(tmp_path / "r.json")
    )  # the old runner waited on the event pipe for ever (here: until the 300 s timeout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{lesson}:28: [cpu] y: expected [2, 4], found [2, 3]" in done.stdout
    (result,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    stdout = result["blocks"][0]["results"]["cpu"]["stdout"]
    # the last line: Python 3.12 warns before it, at fork() in a process with threads
    worker, child, forked = (int(pid) for pid in stdout.splitlines()[-1].split())
    assert not [pid for pid in (worker, child, forked) if _running(pid)]
    assert _session(worker) == []  # the worker's whole session was ended


ENDING = """# Ending

```python
import atexit
import threading
import time


def late():
    time.sleep(0.3)
    open({thread!r}, "w").write("the thread finished")


threading.Thread(target=late).start()
atexit.register(lambda: open({atexit!r}, "w").write("atexit ran"))
```
"""


def test_a_worker_ends_as_python_ends_its_threads_waited_and_atexit_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker of its own (no warm process) ends without Python's teardown of its modules
    (``worker.exit_without_teardown``: 0.8 s after an optimizer's step), but as Python
    ends for the lesson: its non-daemon thread finishes, its atexit function runs."""
    monkeypatch.delenv(warm.ADDRESS, raising=False)
    marks = {"thread": str(tmp_path / "thread"), "atexit": str(tmp_path / "atexit")}
    lesson = tmp_path / "ending.md"
    lesson.write_text(ENDING.format(**marks))
    done = _harness(str(lesson), "--devices", "cpu", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "thread").read_text() == "the thread finished"
    assert (tmp_path / "atexit").read_text() == "atexit ran"


INTERRUPTED = """# Interrupted

```python
print("finished")
```

```python
import os
import time

with open({mark!r}, "w") as file:
    file.write(str(os.getpid()))
time.sleep(1000)
```

```python
print("never")
```
"""


CPU_JSON = ("--devices", "cpu", "--json", "r.json", "--no-progress")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_check_ends_its_workers_and_keeps_what_finished(
    tmp_path: Path, signum: int, code: int
) -> None:
    """Ctrl-C (or SIGTERM) after the first block: one line, exit 128 + the signal, no worker
    left, and the JSON results and the cache hold the block that finished."""
    here, marks, cache = tmp_path / "run", tmp_path / "marks", tmp_path / "cache"
    here.mkdir()
    marks.mkdir()
    mark = marks / "second-block-started"
    (here / "stopped.md").write_text(INTERRUPTED.format(mark=str(mark)))
    check = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "check", "stopped.md", *CPU_JSON],
        cwd=here,
        env={**os.environ, "HARNESS_CACHE_DIR": str(cache)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker, out, err = interrupt_once_marked(check, mark, signum)
    assert check.returncode == code, out + err
    assert "Traceback" not in out + err
    assert err.splitlines() == [
        f"harness: interrupted by {signal.Signals(signum).name}: the workers were ended; "
        "what finished is reported above (and written to --json and the cache), the rest "
        "did not run"
    ]
    assert out.splitlines()[-1].startswith("1 passed, 0 failed, 2 not-run (blocks)")
    assert not _running(worker)
    assert _session(worker) == []
    (result,) = json.loads((here / "r.json").read_text())["lessons"]
    statuses = [(b["line"], b["results"]["cpu"]["status"]) for b in result["blocks"]]
    assert statuses == [(3, "passed"), (7, "not-run"), (16, "not-run")]
    why = result["blocks"][1]["results"]["cpu"]["reason"]
    assert why == f"the check was interrupted ({signal.Signals(signum).name})"
    stored = [
        json.loads(path.read_text())
        for path in cache.glob("*.json")
        if not path.name.startswith("devices-")
    ]
    assert [sorted(e["line"] for e in doc["blocks"].values()) for doc in stored] == [[3]]


def test_after_a_signal_no_worker_starts_and_the_next_check_runs_afresh() -> None:
    from harness.run.runner import Interrupted, stop_on_signals

    lesson = parse_lesson(FAILING_SECOND, "short.md")
    with stop_on_signals() as stopped:
        with pytest.raises(Interrupted):  # outside a worker's run: at once
            signal.raise_signal(signal.SIGINT)
        assert stopped == [signal.SIGINT]
        result = check_lesson(lesson, ["cpu"])
        assert {line: per["cpu"].reason for line, per in result.blocks.items()} == dict.fromkeys(
            (1, 5, 10), "the check was interrupted (SIGINT)"
        )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    again = check_lesson(lesson, ["cpu"])
    assert [again.blocks[line]["cpu"].status for line in (1, 5, 10)] == [
        "passed",
        "failed",
        "passed",
    ]


def _block_parses(monkeypatch: pytest.MonkeyPatch, codes: set[str]) -> list[str]:
    """Every later ``ast.parse`` of a block's code, recorded (one entry per call)."""
    import ast

    seen: list[str] = []
    real = ast.parse

    def counting(source: object, *args: object, **kwargs: object) -> object:
        if isinstance(source, str) and source in codes:
            seen.append(source)
        return real(source, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(ast, "parse", counting)
    return seen


@pytest.mark.parametrize("isolated", [False, True], ids=["reader", "isolated"])
def test_the_worker_runs_and_instruments_each_block_from_its_one_tree(
    monkeypatch: pytest.MonkeyPatch, isolated: bool
) -> None:
    """Issue 12, parse once: running the blocks (instrumenting, preludes, training loops,
    explanations) parses no block again: each uses ``Fence.tree``, which instrumenting
    leaves as it is."""
    import ast

    from harness.claims import find_claims
    from harness.run.execute import run_lesson

    source = (ROOT / "tests/samples/printed/printed.md").read_text(encoding="utf-8")
    lesson = parse_lesson(source, "printed.md")
    claims = find_claims(lesson)
    trees = {
        f.line: ast.dump(f.tree or ast.Module([], []), True, True) for f in lesson.python_fences
    }
    seen = _block_parses(monkeypatch, {f.code for f in lesson.python_fences})
    results: dict[int, str] = {}
    run_lesson(lesson, claims, "cpu", lambda f, r, t: results.update({f.line: r.status}),
               isolated=isolated)  # fmt: skip
    assert seen == []
    assert set(results.values()) == {"passed"}, results
    for fence in lesson.python_fences:  # instrumented copies share nodes, never change them
        assert fence.tree is not None
        assert ast.dump(fence.tree, True, True) == trees[fence.line]


def test_the_worker_parses_each_block_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: in the worker process (reading the lesson, finding its claims, running it),
    each Python block's code is parsed once."""
    from harness.claims import find_claims
    from harness.run.execute import run_lesson

    source = (ROOT / "tests/samples/printed/printed.md").read_text(encoding="utf-8")
    codes = {f.code for f in parse_lesson(source, "printed.md").python_fences}
    seen = _block_parses(monkeypatch, codes)
    lesson = parse_lesson(source, "printed.md")
    run_lesson(lesson, find_claims(lesson), "cpu", lambda f, r, t: None)
    per_block = {code: seen.count(code) for code in codes}
    assert per_block == dict.fromkeys(codes, 1)
