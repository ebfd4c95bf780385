"""Finding training loops and capturing their loss curves (timing lives in tests/benchmarks)."""

from __future__ import annotations

import itertools

from harness.lesson import parse_lesson, read_lesson
from harness.run.bench import LoopRun, training_loops
from tests.conftest import LESSON


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
