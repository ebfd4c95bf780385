"""Where the tests find the project, its lesson and the sample lessons."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"
LESSON = ROOT / "lessons" / "dl.md"
