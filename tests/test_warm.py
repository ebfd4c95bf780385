"""The warm worker: workers forked from a process that imported torch once report what a new
worker process reports (results, crashes, signals, time limits), end with their session, and
never see what an earlier run left; without it, or when it is gone, workers start as before."""

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
from harness.run import process, warm
from harness.run.runner import check_lesson
from tests.test_cache import harness

PARENT = """\
```python
import os, sys
parent = os.getppid()
print(parent, "torch" in sys.modules)
```
"""


def _check(source: str, time_limit: float = 120.0) -> LessonResult:
    return check_lesson(parse_lesson(source, "l.md"), ["cpu"], time_limit=time_limit)


def _error(result: LessonResult, line: int) -> str:
    block = result.blocks[line]["cpu"]
    assert block.error is not None, block
    return f"{block.error.type}: {block.error.message}"


def test_a_worker_is_forked_from_the_warm_process_with_torch_imported() -> None:
    with warm.started() as server:
        assert server.process is None  # started by the first worker asked for
        first = _check(PARENT)
        warm_process = server.process
        assert warm_process is not None
        second = _check(PARENT)
    assert first.blocks[1]["cpu"].stdout == f"{warm_process.pid} True\n"
    assert second.blocks[1]["cpu"].stdout == first.blocks[1]["cpu"].stdout
    assert warm_process.poll() is not None  # ended with the ``with``
    alone = _check(PARENT)  # no warm process: a new worker process, a child of this one
    assert alone.blocks[1]["cpu"].stdout.split()[0] == str(os.getpid())


def test_what_a_run_leaves_in_a_forked_worker_never_reaches_the_next() -> None:
    leaves = (
        "```python\nimport torch, json\n"
        "assert not hasattr(json, 'left_behind'), 'an earlier run leaked'\n"
        "json.left_behind = True\ntorch.manual_seed(1)\nx = torch.zeros(2, 3)  # [2, 3]\n```\n"
    )
    with warm.started():
        runs = [_check(leaves) for _ in range(3)]
    for result in runs:
        assert result.blocks[1]["cpu"].status == "passed", result.blocks[1]["cpu"].error
        assert result.verdicts[6]["cpu"].verdict == "passed"


def test_a_forked_worker_that_exits_or_is_killed_is_reported_as_a_new_one_is() -> None:
    exits = "```python\nimport os\nos._exit(3)\n```\n\n```python\nx = 1\n```\n"
    killed = "```python\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n```\n"
    with warm.started():
        warm_exit, warm_kill = _check(exits), _check(killed)
    cold_exit, cold_kill = _check(exits), _check(killed)
    assert _error(warm_exit, 1) == _error(cold_exit, 1)
    assert "exited with code 3" in _error(warm_exit, 1)
    assert warm_exit.blocks[6]["cpu"].status == "not-run"
    assert _error(warm_kill, 1) == _error(cold_kill, 1)
    assert "killed by signal 9" in _error(warm_kill, 1)


def test_a_forked_worker_past_its_time_limit_is_ended_with_what_it_started() -> None:
    sleeps = (
        "```python\nimport subprocess, time\n"
        "child = subprocess.Popen(['sleep', '333'])\ntime.sleep(333)\n```\n"
    )
    with warm.started():
        result = _check(sleeps, time_limit=3.0)
        assert not process._ACTIVE  # every worker was ended and reaped
    assert "the block ran longer than 3 s" in _error(result, 1)
    deadline = time.monotonic() + 5
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _sleepers()


def _sleepers() -> list[int]:
    """Processes running ``sleep 333`` (what the lesson started), zombies left out."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                command = file.read()
            with open(f"/proc/{name}/stat", "rb") as file:
                state = file.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if command == b"sleep\x00333\x00" and state != b"Z":
            found.append(int(name))
    return found


def test_when_the_warm_process_is_gone_workers_start_as_new_processes() -> None:
    with warm.started() as server:
        _check(PARENT)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        result = _check(PARENT)
    assert result.blocks[1]["cpu"].stdout.split()[0] == str(os.getpid())


def test_a_check_of_several_lessons_forks_their_workers_from_one_warm_process(
    tmp_path: Path,
) -> None:
    """Each lesson prints its worker's parent: for two lessons, one warm process (not the
    checker); for one lesson, the checker itself. Answered whole from the cache, two lessons
    start no process and never import torch."""
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(PARENT)
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_CACHE_DIR"}
    command = [sys.executable, "-m", "harness.cli", "check", "--devices", "cpu", "--json"]

    def parents(*lessons: str) -> tuple[int, list[str]]:
        checker = subprocess.Popen([*command, "r.json", *lessons], cwd=tmp_path, env=env)
        assert checker.wait(timeout=600) == 0
        found = json.loads((tmp_path / "r.json").read_text())["lessons"]
        return checker.pid, [lesson["blocks"][0]["results"]["cpu"]["stdout"] for lesson in found]

    checker, (one, two) = parents("a.md", "b.md")
    assert one == two and one.split()[0] != str(checker) and one.endswith(" True\n")
    checker, (alone,) = parents("--no-cache", "a.md")
    assert alone.split()[0] == str(checker)
    done = harness(tmp_path, "a.md", "b.md", "--devices", "cpu", wrapped=True)
    assert "a.md: 0 blocks ran, 1 from the cache" in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1].endswith(", 0 workers, torch False"), done.stdout


def test_a_variable_set_after_the_warm_process_started_reaches_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The warm process has the environment it started with: once the workers' environment
    differs, a worker starts as a new process (which sees the variable); when it is back,
    workers are forked again."""
    sees = "```python\nimport os\nprint(os.getppid(), os.environ.get('HARNESS_WARM_TEST'))\n```\n"
    with warm.started() as server:
        forked = _check(sees).blocks[1]["cpu"].stdout
        assert server.process is not None and forked == f"{server.process.pid} None\n"
        monkeypatch.setenv("HARNESS_WARM_TEST", "set")
        assert _check(sees).blocks[1]["cpu"].stdout == f"{os.getpid()} set\n"
        monkeypatch.delenv("HARNESS_WARM_TEST")
        assert _check(sees).blocks[1]["cpu"].stdout == forked
