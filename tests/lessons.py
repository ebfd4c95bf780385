"""What tests share: lessons/dl.md mutated, its runs made once per test session (``once``),
harness and pytest run in new processes as a user runs them."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness.claims import read_comments
from harness.lesson import parse_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.paths import LESSON, ROOT


def mutate(line: int, old: str, new: str, source: str | None = None) -> str:
    """The lesson with ``old`` replaced by ``new`` on one line (which must hold ``old``)."""
    lines = (source or LESSON.read_text(encoding="utf-8")).splitlines(keepends=True)
    assert old in lines[line - 1], f"line {line} is {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "".join(lines)


SHARED: Path | None = None  # set by conftest: a folder all of the session's test processes see


def once(name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``name`` that ``make`` filled, made once per test session: the first test
    process (xdist worker) that asks makes it, under a lock; the others wait for it, or find
    it made. A ``make`` that fails leaves nothing: the next test to ask tries again."""
    assert SHARED is not None, "set by tests/conftest.py's session fixture"
    SHARED.mkdir(parents=True, exist_ok=True)
    folder = SHARED / name
    with open(SHARED / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (or the process ends)
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder


TRAINING = 607  # lessons/dl.md's complete training example: 6 of the 7.5 CPU-seconds of a run


def without_training(source: str | None = None) -> str:
    """lessons/dl.md ``source`` with its block at line 607, the complete training example,
    made a ``text`` fence: skipped, every line where it was. For the runs of a lesson made
    wrong in other blocks, whose subject is what the harness says of those: the block needs
    nothing of theirs (tests/test_depends.py), and the blocks after it import what they take
    from it (nn, torch) earlier too. The runs of the whole lesson keep it (``dl_result``,
    ``dl_checked``, the cache's, the plugin's, the snippets')."""
    lines = (source or LESSON.read_text(encoding="utf-8")).splitlines(keepends=True)
    assert lines[TRAINING - 1] == "```python\n", lines[TRAINING - 1]
    lines[TRAINING - 1] = "```text\n"
    return "".join(lines)


# Five claims of lessons/dl.md made wrong, each in a comment (never the code that runs) of
# another block: (line, claim, made wrong, what its message says). One run of the lesson
# they give (``check_text(five_wrong())``) serves every test that reads it.
FIVE_WRONG = [
    (111, "# [1, 3]", "# [1, 4]", ["found [1, 3]"]),  # a changed literal
    (243, "-> [B, 64, 7, 7]", "-> [B, 64, 8, 8]", ["after line 2"]),  # a transition
    (443, "[batch, seq_len]", "[seq_len, batch]",  # a swapped pair: every binding listed
     ["batch=8", "bindings: batch=8, seq_len=50", "found [8, 50]"]),
    (334, "Features=10", "Features=12", ["Features=12"]),  # a named dimension
    (372, "hidden_size*2", "hidden_size*3", ["no integer value of hidden_size"]),  # solved
]  # fmt: skip


def mutated(wrong: list[tuple[int, str, str, list[str]]], source: str) -> str:
    """``source`` with each of the ``wrong`` claims (line, claim, made wrong, said) made wrong."""
    for line, old, new, _ in wrong:
        source = mutate(line, old, new, source)
    return source


def five_wrong() -> str:
    """lessons/dl.md with the ``FIVE_WRONG`` claims made wrong, ``without_training``."""
    return mutated(FIVE_WRONG, without_training())


_CHECKED: dict[tuple[str, str], LessonResult] = {}


def check_text(source: str, path: str = "lessons/dl.md") -> LessonResult:
    """The lesson ``source`` checked on cpu in reader order, once per test session: tests that
    check the same text (lessons/dl.md itself, the same mutation), in any test process,
    share one run. The result is shared: read it, never change it."""
    key = (source, path)
    if key not in _CHECKED:

        def check(folder: Path) -> None:
            result = check_lesson(parse_lesson(source, path), ["cpu"])
            # what the run found; the comments are read again from the lesson (a claim holds
            # what its parse matched: no pickle)
            found = dataclasses.replace(result, claims=[], prose=[])
            (folder / "result.pickle").write_bytes(pickle.dumps(found))

        digest = hashlib.sha256(f"{path}\0{source}".encode()).hexdigest()[:16]
        found = pickle.loads((once(f"check-{digest}", check) / "result.pickle").read_bytes())
        claims, prose = read_comments(found.lesson)
        _CHECKED[key] = dataclasses.replace(found, claims=claims, prose=prose)
    return _CHECKED[key]


def failed_claims(result: LessonResult) -> list[int]:
    return [line for line, per in result.verdicts.items() if per["cpu"].verdict == "failed"]


def failed_blocks(result: LessonResult) -> list[int]:
    return [line for line, per in result.blocks.items() if per["cpu"].status == "failed"]


def harness_cli(
    *args: str, cwd: Path = ROOT, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """``harness ARGS`` in a new process, as a user runs it, ``env`` added to this one's
    environment."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def harness_check(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    """``harness check ARGS`` in a new process, as a user runs it."""
    return harness_cli("check", *args, cwd=cwd, timeout=300, **env)


def interrupt_once_marked(
    process: subprocess.Popen[str], mark: Path, signum: int
) -> tuple[int, str, str]:
    """Wait until the lesson wrote its worker's pid to ``mark`` (a worker starting torch on a
    busy machine: up to 240 s), send ``signum`` to ``process``; the pid, stdout and stderr."""
    try:
        deadline = time.monotonic() + 240
        while not (mark.exists() and mark.read_text()) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        worker = int(mark.read_text())
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    return worker, out, err or ""


RUNS = "HARNESS_TEST_RUNS"  # the file lesson code copied by ``logged`` appends its marks to
_LOG = 'open(__import__("os").environ["' + RUNS + '"], "a").write("{mark}\\n")'


def logged(marks: dict[int, str], source: str | None = None) -> str:
    """The lesson with, after each line named in ``marks``, a statement appending the mark to
    the file ``$HARNESS_TEST_RUNS`` (indented as the line after it): lesson code that says
    when it ran. The statement defines and changes nothing: no snippet prelude carries it."""
    lines = (source or LESSON.read_text(encoding="utf-8")).splitlines(keepends=True)
    for line in sorted(marks, reverse=True):
        after = lines[line] if line < len(lines) else ""
        indent = after[: len(after) - len(after.lstrip(" "))]
        lines.insert(line, indent + _LOG.format(mark=marks[line]) + "\n")
    return "".join(lines)


def runs(path: Path) -> list[str]:
    """The marks ``logged`` lesson code wrote, in order."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def run_pytest(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in a new process, ``env`` added to this one's environment
    (the cacheprovider stays as ``cwd`` has it: on where no configuration turns it off).

    Without ``TOX_ENV_DIR``: under tox, pytest keeps its cache there, so every inner pytest
    shared one ``.tox/py/.pytest_cache``, and a ``--lf`` run read the last failures another
    test's run had just written (seen once, with the machine loaded)."""
    inherited = {k: v for k, v in os.environ.items() if k != "TOX_ENV_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        env={**inherited, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# a two-block lesson with a claim in each (the cache tests, the small course lessons)
SMALL = """\
```python
import torch

x = torch.zeros(2, 3)  # [2, 3]
```

```python
y = x.sum(0)  # [3]
```
"""


def course(folder: Path, marked: bool = False, small: bool = False) -> list[Path]:
    """A folder of four lessons: lessons/dl.md and three copies (``small``: three copies of
    ``SMALL``, a two-block lesson, for a test about where lessons run rather than what
    lessons/dl.md gives). ``marked``: each ends with one more block, appending the lesson's
    name to ``$HARNESS_TEST_RUNS`` when it runs (the lesson's other lines stay where they
    were)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("dl", "dl-2", "dl-3", "dl-4"):
        source = SMALL if small and name != "dl" else LESSON.read_text(encoding="utf-8")
        if marked:
            source += "\n\n```python\n" + _LOG.format(mark=name) + "\n```\n"
        path = folder / f"{name}.md"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths
