"""``pytest DIR -n 2`` against a serial ``pytest DIR`` over four lessons (lessons/dl.md and three
copies): one round each, whole processes, in one session (``tox -e bench``).

Each lesson's items go to one worker (``harness.plugin_xdist``), so the two workers share
the four lesson runs; the parallel run's ``extra_info`` holds its ratio to the serial one
(target: at most 0.6). Serial runs first: the ratio needs its time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lessons import course

SERIAL: dict[str, float] = {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("course")
    course(found)
    return found


def _pytest(folder: Path, *spread: str) -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ".", *spread]
    options = ["--devices", "cpu", "--rootdir", str(folder)]
    subprocess.run([*command, *options], cwd=folder, check=True, capture_output=True, timeout=900)


@pytest.mark.benchmark(group="pytest 4 lessons")
def test_pytest_serial(benchmark: Any, folder: Path) -> None:
    benchmark.pedantic(_pytest, args=(folder, "-p", "no:xdist"), rounds=1, iterations=1)
    SERIAL["mean"] = benchmark.stats.stats.mean


@pytest.mark.benchmark(group="pytest 4 lessons")
def test_pytest_xdist_2(benchmark: Any, folder: Path) -> None:
    benchmark.pedantic(_pytest, args=(folder, "-n", "2"), rounds=1, iterations=1)
    if "mean" in SERIAL:
        benchmark.extra_info["ratio_to_serial"] = benchmark.stats.stats.mean / SERIAL["mean"]
