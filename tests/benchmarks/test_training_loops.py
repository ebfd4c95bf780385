"""The lesson's training loops, per device, with pytest-benchmark: ``tox -e bench``.

Each loop is timed twice in one session: through the harness (``LoopRun``: setup untimed,
warm-up rounds, fresh model and optimizer each round, device synchronised), and as a plain
script would time it (its committed snippet exec'd in a fresh namespace). Their means should
agree within 10%: the harness adds nothing to what it measures.
"""

from __future__ import annotations

import platform
import random
from typing import Any

import pytest
import torch

from harness.lesson import read_lesson
from harness.run.bench import LoopRun, training_loops
from harness.run.devices import available, default_device, synchronize
from harness.static.snippets import snippets
from tests.paths import LESSON, ROOT

LOOPS = training_loops(read_lesson(LESSON))
CASES = [pytest.param(f.line, d, id=f"L{f.line}-{d}") for f in LOOPS for d in available()]
ROUNDS = 15


@pytest.mark.parametrize(("line", "device"), CASES)
def test_harness_loop(benchmark: Any, line: int, device: str) -> None:
    lesson = read_lesson(LESSON)
    fence = next(f for f in lesson.python_fences if f.line == line)
    loop = LoopRun(lesson, fence, device)
    captured = loop.capture()
    benchmark.group = f"training loop L{line} [{device}]"
    benchmark.pedantic(loop.run, setup=loop.setup, rounds=ROUNDS, warmup_rounds=1)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        lesson=lesson.path,
        block=line,
        device=device,
        torch=torch.__version__,
        machine=f"{platform.machine()} {platform.processor() or platform.node()}",
        steps=captured.steps,
        samples=captured.samples,
        steps_per_second=captured.steps / mean,
        samples_per_second=captured.samples / mean,
        losses=captured.losses,
    )
    assert captured.steps > 0 and len(captured.losses) == captured.steps


@pytest.mark.parametrize(("line", "device"), CASES)
def test_plain_loop(benchmark: Any, line: int, device: str) -> None:
    lesson = read_lesson(LESSON)
    number = [f.line for f in lesson.python_fences].index(line)
    text = snippets(lesson, ROOT / "snippets")[number].text
    marker = text.index(f"# {lesson.path}:{line + 1} (the block, unchanged)")
    prelude, block = compile(text[:marker], "snippet", "exec"), compile(text[marker:], "s", "exec")
    benchmark.group = f"training loop L{line} [{device}]"
    namespace: dict[str, Any] = {}

    def setup() -> None:  # what a plain script does once: the earlier blocks, then seeds
        namespace.clear()
        namespace["__name__"] = "__main__"
        exec(prelude, namespace)
        random.seed(0)
        torch.manual_seed(0)

    def run() -> None:
        with default_device(device):
            exec(block, namespace)
        synchronize(device)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, warmup_rounds=1)
