"""What ``harness check`` costs over a plain run of the same blocks in one Python process.

Both are whole processes (interpreter start and ``import torch`` included), timed alike by
pytest-benchmark in one session: ``tox -e bench``. The ratio of the two means is the overhead.
``harness check --no-cache`` runs every block; the cached check is what an author gets on an
unchanged lesson (every block answered from the cache, torch never imported).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.paths import LESSON, ROOT

ROUNDS = 5


def _run(*command: str) -> None:
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)


@pytest.mark.benchmark(group="check lessons/dl.md")
def test_plain_run(benchmark: Any) -> None:
    command = (sys.executable, "tests/benchmarks/plain_run.py", str(LESSON))
    benchmark.pedantic(_run, args=command, rounds=ROUNDS, warmup_rounds=1)


@pytest.mark.benchmark(group="check lessons/dl.md")
def test_harness_check(benchmark: Any) -> None:
    command = (sys.executable, "-m", "harness.cli", "check", str(LESSON), "--no-cache")
    benchmark.pedantic(_run, args=command, rounds=ROUNDS, warmup_rounds=1)


@pytest.mark.benchmark(group="check lessons/dl.md")
def test_harness_check_cached(benchmark: Any) -> None:
    command = (sys.executable, "-m", "harness.cli", "check", str(LESSON))
    benchmark.pedantic(_run, args=command, rounds=ROUNDS, warmup_rounds=1)  # warm-up fills it
