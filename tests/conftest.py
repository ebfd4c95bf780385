"""Shared fixtures. Sample lessons in tests/samples are inputs, never collected as tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.results import LessonResult

collect_ignore_glob = ["samples/*"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"
LESSON = ROOT / "lessons" / "dl.md"


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' `harness check` runs (in process and in subprocesses) use a cache of their
    own, never the project's .harness-cache/."""
    previous = os.environ.get("HARNESS_CACHE_DIR")
    os.environ["HARNESS_CACHE_DIR"] = str(tmp_path_factory.mktemp("harness-cache"))
    yield
    if previous is None:
        os.environ.pop("HARNESS_CACHE_DIR", None)
    else:
        os.environ["HARNESS_CACHE_DIR"] = previous


@pytest.fixture
def dl_source() -> str:
    return LESSON.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def dl_result() -> LessonResult:
    """lessons/dl.md checked once per test process, on cpu in reader order, as
    ``tests.lessons.check_text(dl_source)`` checks it (the same run): read it, never change it."""
    from tests.lessons import check_text  # it imports this module

    return check_text(LESSON.read_text(encoding="utf-8"))
