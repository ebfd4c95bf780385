"""pytest-xdist scheduling of lesson items (``harness.plugin_xdist``). The end-to-end check,
four lessons under ``-n 2`` each run once with a serial run's verdicts, is in test_plugin.py."""

from __future__ import annotations

from pathlib import Path

from harness.plugin_xdist import lesson_scope
from tests.lessons import run_pytest


def test_lesson_scope_groups_a_lessons_items_per_device() -> None:
    assert lesson_scope("lessons/dl.md::03_mlp[cpu]") == "lessons/dl.md::[cpu]"
    assert lesson_scope("lessons/dl.md::bash01[cpu]") == "lessons/dl.md::[cpu]"
    assert lesson_scope("lessons/dl.md::03_mlp[cuda]") == "lessons/dl.md::[cuda]"
    assert lesson_scope("tests/test_x.py::test_a[1]") == "tests/test_x.py::test_a[1]"


def test_a_chosen_dist_keeps_xdists_scheduling(tmp_path: Path) -> None:
    """``--dist load`` given: xdist schedules as asked (each worker that gets part of a
    lesson runs it, as before)."""
    (tmp_path / "one.md").write_text("```python\nx = 1\n```\n\n```python\ny = x\n```\n")
    options = ("-v", "-n", "2", "--dist", "load", "--devices", "cpu")
    done = run_pytest("one.md", *options, "--rootdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "scheduling tests via LoadScheduling" in done.stdout
