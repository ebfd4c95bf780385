"""``harness watch``: a check, then another each time the lesson is saved, with the messages of
``harness check``; every round runs in new workers, so nothing a lesson leaves behind leaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.cli.watch import stamps
from harness.run import warm
from tests.paths import ROOT

RIGHT = "# W\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n```\n"
STATE = (
    "# S\n\n```python\nimport builtins\n"
    "seen = getattr(builtins, 'harness_watch_seen', 0)\n"
    "builtins.harness_watch_seen = seen + 1\n"
    "print(seen)  # 0\n```\n"
)
PARENT = "\n```python\nimport os\nprint(os.getppid())\n```\n"


def _watch(folder: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    out = folder / "out.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "watch", "l.md", "--devices", "cpu", *args],
        cwd=folder,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != warm.ADDRESS},  # the watch's own
            "PYTHONPATH": str(ROOT),
            "HARNESS_CACHE_DIR": str(folder / "cache"),
        },
    )
    return process, out


def _wait_for(out: Path, text: str, process: subprocess.Popen[str], count: int = 1) -> None:
    deadline = time.monotonic() + 240  # a worker starting torch on a busy machine
    while out.read_text().count(text) < count:
        assert process.poll() is None, out.read_text()
        assert time.monotonic() < deadline, out.read_text()
        time.sleep(0.1)


def test_an_edit_that_makes_a_claim_wrong_is_reported_by_the_next_round(tmp_path: Path) -> None:
    lesson = tmp_path / "l.md"
    lesson.write_text(RIGHT)
    process, out = _watch(tmp_path, "--runs", "2")
    _wait_for(out, "harness watch: waiting for a change to l.md", process)
    assert "claims: 1 passed, 0 failed" in out.read_text()
    lesson.write_text(RIGHT.replace("# [2, 3]", "# [3, 2]"))
    assert process.wait(timeout=240) == 1
    second = out.read_text().split("harness watch: waiting for a change to l.md")[1]
    assert "l.md:5: [cpu] x: expected [3, 2], found [2, 3]" in second
    assert second.splitlines()[-1].startswith("0 passed, 1 failed (blocks)")


def test_module_state_from_one_round_never_reaches_the_next(tmp_path: Path) -> None:
    """The block counts its runs in ``builtins``: a second round in the same process would
    print 1 and fail its claim ``# 0``. Both rounds ran in workers forked from one warm
    process (the parent each worker prints), not in new processes started by the watch."""
    lesson = tmp_path / "l.md"
    lesson.write_text(STATE + PARENT)
    process, out = _watch(tmp_path, "--runs", "2", "--no-cache", "--json", "r.json")
    _wait_for(out, "harness watch: waiting for a change to l.md", process)
    first = _stdout(tmp_path / "r.json", 10)
    lesson.write_text(STATE + PARENT + "\nSaved again.\n")
    assert process.wait(timeout=240) == 0, out.read_text()
    closing = [line for line in out.read_text().splitlines() if "(blocks); claims:" in line]
    assert (
        closing
        == ["2 passed, 0 failed (blocks); claims: 1 passed, 0 failed, 0 unchecked, 0 not-run"] * 2
    )
    parent = int(first)
    assert parent != process.pid and _stdout(tmp_path / "r.json", 10) == first
    assert not Path(f"/proc/{parent}").exists()  # the warm process ended with the watch


def _stdout(results: Path, line: int) -> str:
    (lesson,) = json.loads(results.read_text())["lessons"]
    (block,) = [b for b in lesson["blocks"] if b["line"] == line]
    return str(block["results"]["cpu"]["stdout"])


def test_stamps_see_a_save_and_a_new_configuration(tmp_path: Path) -> None:
    lesson = tmp_path / "l.md"
    lesson.write_text(RIGHT)
    before = stamps([str(tmp_path)])
    (tmp_path / "harness.toml").write_text('setup = "import torch"\n')
    assert stamps([str(tmp_path)]) != before
    again = stamps([str(lesson)])
    lesson.write_text(RIGHT + "\n")
    assert stamps([str(lesson)]) != again
