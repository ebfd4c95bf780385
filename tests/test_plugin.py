"""``pytest lessons/``: items per block and device, messages at lesson lines, xdist."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.lesson import parse_lesson
from harness.plugin import item_names
from tests.lessons import (
    RUNS,
    course,
    interrupt_once_marked,
    logged,
    mutate,
    once,
    run_pytest,
    runs,
    without_training,
)
from tests.paths import LESSON, ROOT, SAMPLES
from tests.test_runner import _running, _session


def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def verdicts(path: Path) -> dict[str, dict[str, object]]:
    """Per lesson path: its blocks' statuses and its claims' verdicts and values, on cpu."""
    found: dict[str, dict[str, object]] = {}
    for lesson in json.loads(path.read_text())["lessons"]:
        blocks = {b["line"]: b["results"]["cpu"]["status"] for b in lesson["blocks"]}
        claims = {
            c["line"]: (c["results"]["cpu"]["verdict"], c["results"]["cpu"]["actual"])
            for c in lesson["claims"]
        }
        found[lesson["path"]] = {"blocks": blocks, "claims": claims}
    return found


@pytest.fixture(scope="module")
def serial() -> dict[str, object]:
    """``pytest lessons/`` without xdist (run once per test session): the verdicts of
    lessons/dl.md, shared."""

    def run(folder: Path) -> None:
        results = folder / "serial.json"
        done = pytest_run("lessons/", "-q", "-p", "no:xdist", "--harness-json", str(results))
        assert done.returncode == 0, done.stdout
        assert "17 passed, 1 skipped" in done.stdout

    (found,) = verdicts(once("pytest-lessons-serial", run) / "serial.json").values()
    assert len(found["claims"]) == 63  # type: ignore[arg-type]
    return found


def test_xdist_runs_each_lesson_once_with_the_verdicts_of_a_serial_run(
    tmp_path: Path, serial: dict[str, object]
) -> None:
    """``-n 2`` over four lessons (lessons/dl.md and three small ones, each with a last block
    that notes its runs): each lesson's items go to one worker, which runs it once, and each
    gives the verdicts of a serial run (``--dist load`` ran each lesson twice). The
    benchmark (tests/benchmarks/test_plugin_xdist.py) runs four copies of lessons/dl.md."""
    folder = tmp_path / "course"
    course(folder, marked=True, small=True)
    log = tmp_path / "runs.txt"
    results = tmp_path / "parallel.json"
    options = ["-v", "-n", "2", "--devices", "cpu", "--harness-json", str(results)]
    options += ["--rootdir", str(folder)]
    done = run_pytest(".", *options, cwd=folder, env={RUNS: str(log)})
    assert done.returncode == 0, done.stdout
    assert "scheduling tests via LessonScheduling" in done.stdout
    assert "27 passed, 1 skipped" in done.stdout  # 18 + 3 x 3 blocks; dl.md's bash fence
    assert sorted(runs(log)) == ["dl", "dl-2", "dl-3", "dl-4"]
    parallel = verdicts(results)
    assert sorted(parallel) == ["dl-2.md", "dl-3.md", "dl-4.md", "dl.md"]
    small = {
        "blocks": {1: "passed", 7: "passed"},
        "claims": {4: ("passed", "[2, 3]"), 8: ("passed", "[3]")},
    }
    for path, found in parallel.items():
        *blocks, last = found["blocks"].items()  # type: ignore[attr-defined]
        assert last[1] == "passed"  # the block that noted the run
        expected = serial if path == "dl.md" else small
        assert {"blocks": dict(blocks), "claims": found["claims"]} == expected, path


def test_isolated_items_give_the_reader_order_claim_verdicts(
    tmp_path: Path, serial: dict[str, object]
) -> None:
    """Every block alone from its snippet: the claims' verdicts of reader order. The items
    are independent: xdist's own load scheduling spreads them."""
    results = tmp_path / "iso.json"
    options = ("-v", "-n", "2", "--isolated", "--devices", "cpu", "--harness-json", str(results))
    isolated = pytest_run("lessons/", *options)
    assert "17 passed, 1 skipped" in isolated.stdout, isolated.stdout
    assert "scheduling tests via LoadScheduling" in isolated.stdout
    (found,) = verdicts(results).values()
    assert found["claims"] == serial["claims"]


def test_failure_message_starts_at_the_lesson_line(tmp_path: Path) -> None:
    lesson = tmp_path / "dl.md"
    lesson.write_text(mutate(443, "[batch, seq_len]", "[seq_len, batch]", without_training()))
    done = pytest_run(str(lesson), "-q", "-rf", "--rootdir", str(tmp_path))
    assert done.returncode == 1
    assert "1 failed, 15 passed, 2 skipped" in done.stdout
    assert "dl.md::11_attention[cpu]" in done.stdout
    assert "dl.md:443: [cpu] scores: expected [seq_len, batch], found [8, 50]" in done.stdout
    assert "Traceback" not in done.stdout


def test_a_block_whose_work_ran_elsewhere_fails_its_item_as_harness_check_does(
    tmp_path: Path,
) -> None:
    """On an H200, block 607 of lessons/dl.md trained on the cpu in its cuda run: ``harness
    check`` said ran-elsewhere and exited 1, while its pytest item passed."""
    lesson = tmp_path / "moves.md"
    shutil.copy(SAMPLES / "moves_to_meta.md", lesson)
    done = pytest_run(str(lesson), "-q", "-rf", "--devices", "cpu", "--rootdir", str(tmp_path))
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed" in done.stdout
    assert (
        "moves.md:10: [cpu] ran-elsewhere: the block at line 6 ran its torch operations on "
        "cpu " in done.stdout
    )


MOVED_BY_AN_EARLIER_BLOCK = """# Moved by a function of an earlier block

```python
import torch

def to_other(t):
    return t.to("meta")
```

```python
x = torch.randn(64, 64)
y = to_other(x)
for _ in range(20):
    y = y @ y + 1
```
"""


def test_work_moved_by_an_earlier_blocks_function_is_said_in_the_item_that_ran_it(
    tmp_path: Path,
) -> None:
    """The line that moved the work is in block 3's function: the item of block 10 says
    ran-elsewhere at line 7, as harness check does (its message was empty)."""
    lesson = tmp_path / "moves.md"
    lesson.write_text(MOVED_BY_AN_EARLIER_BLOCK)
    done = pytest_run(str(lesson), "-q", "-rf", "--devices", "cpu", "--rootdir", str(tmp_path))
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed" in done.stdout
    assert "moves.md:7: [cpu] ran-elsewhere: the block at line 10 ran its torch" in done.stdout


ENDS_ITS_WORKER = """# Ends its worker

```bash
pip install torch
```

```python
x = 1
```

<!-- harness: skip "an example of what not to do" -->
```python
import shutil
shutil.rmtree("/")
```

```python
import os
os._exit(3)
```

```python
y = 2
```
"""


def test_blocks_a_dead_worker_did_not_run_fail_and_skipped_ones_stay_skipped(
    tmp_path: Path,
) -> None:
    """A block not run because its worker ended is a failure, never a skip; a block its
    directive skips, and a bash fence, stay skipped."""
    lesson = tmp_path / "ends.md"
    lesson.write_text(ENDS_ITS_WORKER)
    done = pytest_run(str(lesson), "-q", "-rfs", "-p", "no:xdist", "--rootdir", str(tmp_path))
    assert done.returncode == 1, done.stdout
    assert "2 failed, 1 passed, 2 skipped" in done.stdout
    assert "ends.md:17: [cpu] WorkerCrash: the process running the block exited with code 3" in (
        done.stdout
    )
    assert "ends.md:22: [cpu] not run: an earlier block ended the process" in done.stdout
    assert "Traceback" not in done.stdout


def claim_checks(path: Path) -> dict[int, tuple[str, int]]:
    (lesson,) = json.loads(path.read_text())["lessons"]
    return {
        c["line"]: (c["results"]["cpu"]["verdict"], c["results"]["cpu"]["checks"])
        for c in lesson["claims"]
    }


@pytest.mark.parametrize("spread", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_harness_json_counts_each_claim_check_once(tmp_path: Path, spread: list[str]) -> None:
    """The same ``checks`` as ``harness check`` on the lesson: every phase's report of an
    item (call, teardown) carries its properties, and they were folded twice."""
    (tmp_path / "lessons").mkdir()
    shutil.copy(SAMPLES / "claims/behaviours.md", tmp_path / "lessons/b.md")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    plugin = ["--devices", "cpu", "--harness-json", "pytest.json", "--rootdir", "lessons"]
    for command in (
        ["harness.cli", "check", "lessons/b.md", "--devices", "cpu", "--json", "check.json"],
        ["pytest", "-p", "no:cacheprovider", "lessons/b.md", *plugin, *spread],
    ):
        subprocess.run(
            [sys.executable, "-m", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )
    expected = claim_checks(tmp_path / "check.json")
    assert [checks for _, checks in expected.values()].count(1) > 10  # checked once each
    assert claim_checks(tmp_path / "pytest.json") == expected


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_pytest_leaves_no_worker_behind(tmp_path: Path, signum: int) -> None:
    """Ctrl-C raises KeyboardInterrupt through the run, SIGTERM ends pytest as it always did:
    either way the worker running the lesson, and its session, are ended first."""
    mark = tmp_path / "marks" / "started"
    mark.parent.mkdir()
    lesson = tmp_path / "run" / "stopped.md"
    lesson.parent.mkdir()
    lesson.write_text(
        "```python\nprint('finished')\n```\n\n"
        f"```python\nimport os, time\nopen({str(mark)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(1000)\n```\n"
    )
    options = ["-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--rootdir", str(lesson.parent)]
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(lesson), *options],
        cwd=lesson.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker, out, _ = interrupt_once_marked(run, mark, signum)
    assert run.returncode == (2 if signum == signal.SIGINT else -signal.SIGTERM), out
    gone = time.monotonic() + 10  # init reaps what was killed
    while (_running(worker) or _session(worker)) and time.monotonic() < gone:
        time.sleep(0.1)
    assert not _running(worker)
    assert _session(worker) == []


def test_items_are_named_as_snippets_and_keep_their_names_when_lines_move() -> None:
    """``09_lstmclassifier``: the block's position and first definition (or heading), as
    ``harness extract`` names its snippet; a line inserted above changes no name."""
    source = LESSON.read_text(encoding="utf-8")
    names = item_names(parse_lesson(source, "dl.md"))
    assert names[343] == "09_lstmclassifier"
    assert names[38] == "bash01"
    assert names[158] == "05_train_step"
    assert sorted(f"{n}.py" for line, n in names.items() if line != 38) == sorted(
        p.name for p in (ROOT / "snippets" / "dl").glob("*.py")
    )
    moved = source.replace("## Overview\n", "## Overview\n\nOne more sentence.\n", 1)
    assert parse_lesson(moved, "dl.md").fences[1].line == 46  # every block one line lower
    assert list(item_names(parse_lesson(moved, "dl.md")).values()) == list(names.values())


def test_k_runs_the_block_from_its_snippet_prelude_only(tmp_path: Path) -> None:
    """``-k 05_train_step`` (the block at line 158) runs that block after what its snippet
    brings from line 92 (``class MLP``), and no other block: not the whole lesson."""
    lesson = parse_lesson(LESSON.read_text(encoding="utf-8"), "dl.md")
    marks = {fence.line: str(fence.line) for fence in lesson.python_fences}
    marks[93] = "92:class MLP"  # inside the class body: runs when the class is defined
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "dl.md").write_text(logged(marks))
    log = tmp_path / "runs.txt"
    args = ("dl.md", "-q", "-p", "no:xdist", "--devices", "cpu", "-k", "05_train_step")
    done = run_pytest(*args, cwd=folder, env={RUNS: str(log)})
    assert done.returncode == 0, done.stdout
    assert "1 passed, 17 deselected" in done.stdout
    assert runs(log) == ["92:class MLP", "158"]


LAST_FAILED = """# Last failed

```python
x = 1
{log_a}
```

```python
y = x + 1
{log_b}
assert y == 3, f"y is {{y}}"
```

```python
z = 3
{log_c}
```
"""


def test_lf_reruns_only_the_failed_block(tmp_path: Path) -> None:
    """pytest's ``--lf`` (the cacheprovider on): the second run runs the failed block alone,
    after its prelude (``x = 1``), and reports the same failure at the same line."""
    log = 'open(__import__("os").environ["HARNESS_TEST_RUNS"], "a").write("{}\\n")'
    text = LAST_FAILED.format(**{f"log_{m}": log.format(m) for m in "abc"})
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "last.md").write_text(text)
    marks = tmp_path / "runs.txt"
    args = ("last.md", "-p", "no:xdist", "--devices", "cpu", "-rf", "--rootdir", str(folder))
    first = run_pytest(*args, cwd=folder, env={RUNS: str(marks)})
    assert "1 failed, 2 passed" in first.stdout, first.stdout
    assert runs(marks) == ["a", "b", "c"]
    marks.unlink()
    again = run_pytest(*args, "--lf", cwd=folder, env={RUNS: str(marks)})
    assert "1 failed, 2 deselected" in again.stdout, again.stdout
    assert runs(marks) == ["b"]
    failure = "last.md:11: [cpu] AssertionError: y is 2"
    assert failure in first.stdout
    assert failure in again.stdout
