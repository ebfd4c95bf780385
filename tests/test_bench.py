"""Finding training loops and capturing their loss curves (timing lives in tests/benchmarks)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from harness.lesson import parse_lesson, read_lesson
from harness.run.bench import LoopRun, training_loops
from tests.lessons import harness_check
from tests.paths import LESSON


def test_the_lessons_training_loops_are_found() -> None:
    assert [f.line for f in training_loops(read_lesson(LESSON))] == [158, 607]


def test_a_loop_without_step_is_not_a_training_loop() -> None:
    source = "```python\nimport torch\nfor i in range(3):\n    torch.ones(1).sum()\n```\n"
    assert training_loops(parse_lesson(source, "t.md")) == []


def test_loss_curve_of_the_block_at_158_decreases_over_its_10_steps() -> None:
    lesson = read_lesson(LESSON)
    fence = next(f for f in lesson.python_fences if f.line == 158)
    captured = LoopRun(lesson, fence, "cpu").capture()
    assert (captured.steps, captured.samples) == (10, 1000)
    losses = captured.losses
    assert len(losses) == 10
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    again = LoopRun(lesson, fence, "cpu").capture()
    assert again.losses == losses  # the seed is fixed


def test_a_loss_is_captured_once_per_step_under_a_torch_function_mode() -> None:
    """On cuda the default device is a torch function mode, and ``backward`` under a mode
    calls itself again: the capture recorded 20 losses for 10 steps (H200, torch 2.11)."""
    from torch.overrides import TorchFunctionMode

    class Passing(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            return func(*args, **(kwargs or {}))

    lesson = read_lesson(LESSON)
    fence = next(f for f in lesson.python_fences if f.line == 158)
    with Passing():
        captured = LoopRun(lesson, fence, "cpu").capture()
    assert captured.steps == 10
    assert captured.losses == LoopRun(lesson, fence, "cpu").capture().losses
    assert len(captured.losses) == 10


def _printed_totals(stdout: str) -> list[str]:
    return re.findall(r"Loss: ([0-9.]+)", stdout)


def test_the_check_records_each_training_loops_loss_per_step(
    dl_checked: Path, dl_cache: Path, tmp_path: Path
) -> None:
    """Issue 15 item 8: ``harness check`` keeps the loss of every step of each training
    loop (block and device), as the lesson computes it; the cache keeps them too. The run:
    the session's one check of the lesson (``--no-cache``); then a check answered from a copy
    of the cache it wrote."""
    out = tmp_path / "cached.json"
    done = harness_check(
        "lessons/dl.md", "--devices", "cpu", "--json", str(out), HARNESS_CACHE_DIR=str(dl_cache)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lessons/dl.md: 0 blocks ran, 17 from the cache" in done.stdout.splitlines()
    runs = []
    for path in (dl_checked / "results.json", out):
        (lesson,) = json.loads(path.read_text())["lessons"]
        results = {block["line"]: block["results"].get("cpu", {}) for block in lesson["blocks"]}
        assert {line for line, r in results.items() if "losses" in r} == {158, 607}, path
        runs.append(results)
    ran, cached = runs
    assert cached[158]["cached"] and not ran[158]["cached"]
    for line in (158, 607):
        assert cached[line]["losses"] == ran[line]["losses"]
    # line 158 prints the loss of each of its 10 steps
    losses = ran[158]["losses"]
    assert len(losses) == 10
    assert [f"{loss:.4f}" for loss in losses] == _printed_totals(ran[158]["stdout"])
    # line 607: 5 epochs of 32 batches (1000 samples, batch 32), each epoch's sum printed
    losses = ran[607]["losses"]
    assert len(losses) == 5 * 32
    epochs = [sum(losses[start : start + 32]) for start in range(0, 160, 32)]
    assert [f"{total:.4f}" for total in epochs] == _printed_totals(ran[607]["stdout"])
