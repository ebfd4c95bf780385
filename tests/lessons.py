"""Helpers for tests that check mutated copies of the lesson."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from harness.lesson import Lesson, parse_lesson
from harness.results import LessonResult
from harness.run.runner import check_lesson
from tests.conftest import LESSON, ROOT


def mutate(line: int, old: str, new: str, source: str | None = None) -> str:
    """The lesson with ``old`` replaced by ``new`` on one line (which must hold ``old``)."""
    lines = (source or LESSON.read_text(encoding="utf-8")).splitlines(keepends=True)
    assert old in lines[line - 1], f"line {line} is {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "".join(lines)


def check_text(source: str, path: str = "lessons/dl.md") -> LessonResult:
    lesson: Lesson = parse_lesson(source, path)
    return check_lesson(lesson, ["cpu"])


def failed_claims(result: LessonResult) -> list[int]:
    return [line for line, per in result.verdicts.items() if per["cpu"].verdict == "failed"]


def failed_blocks(result: LessonResult) -> list[int]:
    return [line for line, per in result.blocks.items() if per["cpu"].status == "failed"]


def harness_check(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    """``harness check ARGS`` in a new process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


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
