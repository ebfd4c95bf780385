"""Shared fixtures. Sample lessons in tests/samples are inputs, never collected as tests."""

from __future__ import annotations

from pathlib import Path

import pytest

collect_ignore_glob = ["samples/*"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"
LESSON = ROOT / "lessons" / "dl.md"


@pytest.fixture
def dl_source() -> str:
    return LESSON.read_text(encoding="utf-8")
