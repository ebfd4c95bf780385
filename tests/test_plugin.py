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

from tests.conftest import ROOT, SAMPLES
from tests.lessons import interrupt_once_marked, mutate
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


def verdicts(path: Path) -> dict[str, object]:
    (lesson,) = json.loads(path.read_text())["lessons"]
    blocks = {b["line"]: b["results"]["cpu"]["status"] for b in lesson["blocks"]}
    claims = {
        c["line"]: (c["results"]["cpu"]["verdict"], c["results"]["cpu"]["actual"])
        for c in lesson["claims"]
    }
    return {"blocks": blocks, "claims": claims}


def test_serial_and_xdist_give_the_same_verdicts(tmp_path: Path) -> None:
    serial = pytest_run("lessons/", "-q", "--harness-json", str(tmp_path / "serial.json"))
    assert serial.returncode == 0, serial.stdout
    assert "17 passed, 1 skipped" in serial.stdout
    parallel = pytest_run(
        "lessons/", "-q", "-n", "2", "--harness-json", str(tmp_path / "parallel.json")
    )
    assert parallel.returncode == 0, parallel.stdout
    assert "17 passed, 1 skipped" in parallel.stdout
    one, two = verdicts(tmp_path / "serial.json"), verdicts(tmp_path / "parallel.json")
    assert one == two
    assert len(one["claims"]) == 63  # type: ignore[arg-type]


def test_isolated_items_give_the_reader_order_claim_verdicts(tmp_path: Path) -> None:
    reader = pytest_run("lessons/", "-q", "--harness-json", str(tmp_path / "reader.json"))
    isolated = pytest_run(
        "lessons/", "-q", "-n", "2", "--isolated", "--harness-json", str(tmp_path / "iso.json")
    )
    assert "17 passed, 1 skipped" in isolated.stdout, isolated.stdout
    assert reader.returncode == 0
    one, two = verdicts(tmp_path / "reader.json"), verdicts(tmp_path / "iso.json")
    assert one["claims"] == two["claims"]


def test_failure_message_starts_at_the_lesson_line(tmp_path: Path) -> None:
    lesson = tmp_path / "dl.md"
    lesson.write_text(mutate(443, "[batch, seq_len]", "[seq_len, batch]"))
    done = pytest_run(str(lesson), "-q", "-rf", "--rootdir", str(tmp_path))
    assert done.returncode == 1
    assert "1 failed, 16 passed, 1 skipped" in done.stdout
    assert "dl.md::L426[cpu]" in done.stdout
    assert "dl.md:443: [cpu] scores: expected [seq_len, batch], found [8, 50]" in done.stdout
    assert "Traceback" not in done.stdout


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
