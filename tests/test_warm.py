"""The warm worker: workers forked from a process that imported torch once report what a new
worker process reports (results, crashes, signals, time limits), end with their session, and
never see what an earlier run left; without it, or when it is gone, workers start as before."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
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


@pytest.fixture(autouse=True)
def _without_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says which warm process it runs with: none shared (conftest's) unless it
    starts one (``warm.serving``)."""
    monkeypatch.delenv(warm.ADDRESS, raising=False)


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
    interrupted = "```python\nimport os, signal\nos.kill(os.getpid(), signal.SIGINT)\n```\n"
    with warm.started():
        warm_exit, warm_kill, warm_int = _check(exits), _check(killed), _check(interrupted)
    cold_exit, cold_kill, cold_int = _check(exits), _check(killed), _check(interrupted)
    assert _error(warm_exit, 1) == _error(cold_exit, 1)
    assert "exited with code 3" in _error(warm_exit, 1)
    assert warm_exit.blocks[6]["cpu"].status == "not-run"
    assert _error(warm_kill, 1) == _error(cold_kill, 1)
    assert "killed by signal 9" in _error(warm_kill, 1)
    assert _error(warm_int, 1) == _error(cold_int, 1)  # Python ends on a KeyboardInterrupt
    assert "killed by signal 2" in _error(warm_int, 1)


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


def test_a_lesson_that_signals_its_parent_does_not_end_the_warm_process() -> None:
    """A forked worker's parent is the warm process: a SIGINT the lesson meant for the
    checker finds it, and ends no one's runs; workers are still forked from it."""
    signals = "```python\nimport os, signal\nos.kill(os.getppid(), signal.SIGINT)\n```\n"
    with warm.started() as server:
        first = _check(PARENT).blocks[1]["cpu"].stdout
        assert _check(signals).blocks[1]["cpu"].status == "passed"
        assert server.process is not None and server.process.poll() is None
        assert _check(PARENT).blocks[1]["cpu"].stdout == first == f"{server.process.pid} True\n"


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
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_CACHE_DIR", warm.ADDRESS)}
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
    done = harness(tmp_path, "a.md", "b.md", "--devices", "cpu", wrapped=True, HARNESS_WARM="")
    assert "a.md: 0 blocks ran, 1 from the cache" in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1].endswith(", 0 workers, torch False"), done.stdout


def test_a_variable_set_after_the_warm_process_started_reaches_the_forked_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fork takes the checker's environment as it is at the fork; only a variable that
    torch reads as it loads (the warm process imported it with another) makes the worker a
    new process, which reads it; when it is back, workers are forked again."""
    sees = (
        "```python\nimport os\n"
        "print(os.getppid(), os.environ.get('HARNESS_WARM_TEST'), os.environ.get('TORCH_X'))\n"
        "```\n"
    )
    with warm.started() as server:
        forked = _check(sees).blocks[1]["cpu"].stdout
        assert server.process is not None and forked == f"{server.process.pid} None None\n"
        monkeypatch.setenv("HARNESS_WARM_TEST", "set")
        assert _check(sees).blocks[1]["cpu"].stdout == f"{server.process.pid} set None\n"
        monkeypatch.setenv("TORCH_X", "1")
        assert _check(sees).blocks[1]["cpu"].stdout == f"{os.getpid()} set 1\n"
        monkeypatch.delenv("TORCH_X")
        assert _check(sees).blocks[1]["cpu"].stdout == f"{server.process.pid} set None\n"
        # read only by torch's compiler, which ``import torch`` does not load: still forked
        # (an optimizer's first step in the checker sets it there)
        monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/nowhere")
        assert _check(sees).blocks[1]["cpu"].stdout == f"{server.process.pid} set None\n"


HERE = """\
```python
import os, sys, tempfile
import beside
print(os.getppid(), os.environ.get("LESSON_VAR"), beside.VALUE,
      tempfile.gettempdir(), "torch" in sys.modules)
```
"""


def _checker(cwd: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "check", "--devices", "cpu", "--no-cache", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_shared_warm_process_forks_each_checkers_worker_in_its_directory_and_environment(
    tmp_path: Path,
) -> None:
    """Two ``harness check`` processes in two directories, with two values of a variable and
    of TMPDIR, and a module in each directory (found on the worker's path, as the directory
    a ``python -m`` starts in): each worker is forked from the shared warm process, and is
    what a new process started by its checker would be."""
    outputs = []
    with warm.serving() as server:
        for name in ("one", "two"):
            folder = tmp_path / name
            (folder / "tmp").mkdir(parents=True)
            (folder / "lessons").mkdir()
            (folder / "lessons" / "a.md").write_text(HERE)
            (folder / "beside.py").write_text(f"VALUE = {name!r}\n")
            checker = _checker(
                folder,
                "--json",
                "r.json",
                "lessons/a.md",
                LESSON_VAR=name,
                TMPDIR=str(folder / "tmp"),
            )
            out, err = checker.communicate(timeout=600)
            assert checker.returncode == 0, out + err
            (lesson,) = json.loads((folder / "r.json").read_text())["lessons"]
            outputs.append(lesson["blocks"][0]["results"]["cpu"]["stdout"])
    for name, output in zip(("one", "two"), outputs, strict=True):
        folder = tmp_path / name
        assert output == f"{server.pid} {name} {name} {folder / 'tmp'} True\n"


def test_a_checker_whose_torch_reads_other_variables_starts_its_own_worker(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.md").write_text(PARENT)
    with warm.serving() as server:
        threads = str(int(os.environ.get("OMP_NUM_THREADS", "1")) + 1)
        checker = _checker(tmp_path, "--json", "r.json", "a.md", OMP_NUM_THREADS=threads)
        out, err = checker.communicate(timeout=600)
    assert checker.returncode == 0, out + err
    (lesson,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    parent = lesson["blocks"][0]["results"]["cpu"]["stdout"].split()[0]
    assert parent == str(checker.pid) != str(server.pid)


def test_the_workers_of_a_checker_that_dies_are_ended_by_the_shared_warm_process(
    tmp_path: Path,
) -> None:
    """What ``PR_SET_PDEATHSIG`` does for a worker process of the checker's own: the
    checker killed (``kill -9``) mid-block, its forked worker and what the lesson started
    end too; the shared warm process serves on."""
    mark = tmp_path / "mark"  # outside the checker's folder, which lesson code may not write
    here = tmp_path / "checker"
    here.mkdir()
    (here / "a.md").write_text(
        "```python\nimport os, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '333'])\n"
        f"open({str(mark)!r}, 'w').write(str(os.getpid()))\ntime.sleep(333)\n```\n"
    )
    (here / "b.md").write_text(PARENT)
    with warm.serving() as server:
        checker = _checker(here, "a.md")
        deadline = time.monotonic() + 240
        while not (mark.exists() and mark.read_text()) and time.monotonic() < deadline:
            assert checker.poll() is None, checker.communicate()
            time.sleep(0.1)
        worker = int(mark.read_text())
        assert process.session_processes(worker)  # the worker and its sleep
        checker.kill()
        checker.communicate()
        deadline = time.monotonic() + 10
        while process.session_processes(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process.session_processes(worker)
        assert not _sleepers()
        after = _checker(here, "--json", "r.json", "b.md")
        out, err = after.communicate(timeout=600)
        assert after.returncode == 0, out + err
    (lesson,) = json.loads((here / "r.json").read_text())["lessons"]
    assert lesson["blocks"][0]["results"]["cpu"]["stdout"] == f"{server.pid} True\n"


def test_the_same_harness_sources_elsewhere_are_forked_other_sources_are_not(
    tmp_path: Path,
) -> None:
    """A checker that imported harness from another place (a clone's ``harness/`` found first
    in its directory, while the warm process has the installed one: tox) is served when the
    sources are the same, and starts its own worker when they differ."""
    import harness

    copy = tmp_path / "clone"
    shutil.copytree(
        Path(harness.__file__).parent, copy / "harness", ignore=shutil.ignore_patterns("*.pyc")
    )
    (copy / "a.md").write_text(PARENT)

    def parent() -> tuple[str, int]:
        checker = _checker(copy, "--json", "r.json", "a.md")
        out, err = checker.communicate(timeout=600)
        assert checker.returncode == 0, out + err
        (lesson,) = json.loads((copy / "r.json").read_text())["lessons"]
        return lesson["blocks"][0]["results"]["cpu"]["stdout"].split()[0], checker.pid

    with warm.serving() as server:
        same, _ = parent()
        with (copy / "harness" / "run" / "worker.py").open("a") as module:
            module.write("# edited\n")
        other, checker = parent()
    assert same == str(server.pid)
    assert other == str(checker)


def _join() -> socket.socket:
    joined = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    joined.connect(os.environ[warm.ADDRESS])
    return joined


def _request(joined: socket.socket, body: bytes, length: int | None = None) -> list[int]:
    """Send a request's header (its four descriptors) and ``body``; the descriptors kept."""
    ends = [*os.pipe(), *os.pipe()]
    size = len(body) if length is None else length
    socket.send_fds(joined, [struct.pack("!I", size)], [ends[0], ends[2], ends[3], ends[1]])
    joined.sendall(body)
    return ends


def test_a_checker_gone_mid_request_or_stalled_ends_no_one_elses_runs() -> None:
    """The shared warm process serves on when a checker leaves before reading its reply
    (before, ``sendall`` raised BrokenPipeError and the warm process ended, with every
    worker it had forked), or stops halfway through a request (before, every other checker
    waited on it, for ever)."""
    with warm.serving() as server:
        where = json.dumps(warm._where()).encode()
        gone = _join()
        ends = _request(gone, where)
        gone.close()  # without reading the pid: the fork's reply finds no one
        stalled = _join()
        held = _request(stalled, where[:10], length=len(where))
        started = time.monotonic()
        result = _check(PARENT)  # another checker, meanwhile
        assert time.monotonic() - started < 60
        assert result.blocks[1]["cpu"].stdout == f"{server.pid} True\n"
        assert server.poll() is None
        stalled.close()
        for fd in ends + held:
            os.close(fd)


def test_a_child_the_checker_forks_holds_none_of_its_connections() -> None:
    """A child of the checker (``os.fork``) closes its copy of the connection to the shared
    warm process: so when the checker dies, the warm process sees it, and ends its workers,
    while the child lives on."""
    with warm.serving():
        _check(PARENT)
        joined = warm._JOINED[(os.getpid(), os.environ[warm.ADDRESS])]
        assert joined.socket is not None
        descriptor = joined.socket.fileno()
        child = os.fork()
        if child == 0:
            try:
                os.fstat(descriptor)
                os._exit(1)  # still open
            except OSError:
                os._exit(0 if not warm._JOINED else 2)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert joined.socket is not None  # the checker's own is untouched


def test_a_checker_with_another_umask_or_limits_starts_its_own_worker(tmp_path: Path) -> None:
    """What a new process inherits besides directory and environment: a checker whose
    file-mode mask or resource limits differ from the warm process's is not forked."""
    (tmp_path / "a.md").write_text(
        "```python\nimport os, resource\nm = os.umask(0)\n"
        "print(os.getppid(), oct(m), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n```\n"
    )
    check = [sys.executable, "-m", "harness.cli", "check", "--devices", "cpu", "--no-cache"]
    command = "umask 077; ulimit -n 512; exec " + " ".join([*check, "--json", "r.json", "a.md"])
    with warm.serving() as server:
        checker = subprocess.Popen(["sh", "-c", command], cwd=tmp_path, env=dict(os.environ))
        assert checker.wait(timeout=600) == 0
    (lesson,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    parent, mask, files = lesson["blocks"][0]["results"]["cpu"]["stdout"].split()
    assert (parent, mask, files) == (str(checker.pid), "0o77", "512")
    assert parent != str(server.pid)
