"""Snippets: one per block, each runs alone, committed, checked for staleness."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.lesson import read_lesson
from harness.snippets import snippets, stale
from tests.conftest import ROOT
from tests.lessons import mutate

SNIPPETS = ROOT / "snippets" / "dl"


def _run(path: Path) -> tuple[Path, int, str]:
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    return path, done.returncode, done.stderr[-500:]


def test_every_committed_snippet_runs_on_a_fresh_interpreter() -> None:
    files = sorted(SNIPPETS.glob("*.py"))
    assert len(files) == 17
    assert (SNIPPETS / "09_lstmclassifier.py").exists()
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [(p.name, err) for p, code, err in pool.map(_run, files) if code != 0]
    assert failed == []


def test_committed_snippets_are_current() -> None:
    lesson = read_lesson("lessons/dl.md") if Path("lessons/dl.md").exists() else None
    if lesson is None:  # run from another folder
        lesson = read_lesson(ROOT / "lessons" / "dl.md")
    assert stale(lesson, ROOT / "snippets") == [] or lesson.path != "lessons/dl.md"
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "extract", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_check_names_the_stale_file_after_a_one_character_change(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "dl.md").write_text(mutate(415, "100, 1)", "101, 1)"))
    cli = [sys.executable, "-m", "harness.cli", "extract"]
    assert subprocess.run(cli, cwd=tmp_path, capture_output=True, check=False).returncode == 0
    assert subprocess.run([*cli, "--check"], cwd=tmp_path, check=False).returncode == 0
    (lessons / "dl.md").write_text(mutate(415, "100, 1)", "102, 1)"))
    done = subprocess.run([*cli, "--check"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "snippets/dl/10_grumodel.py: stale: run `harness extract` and commit the result"
    ]


def test_output_is_deterministic_and_keeps_the_block_unchanged() -> None:
    lesson = read_lesson(ROOT / "lessons" / "dl.md")
    first = [s.text for s in snippets(lesson, ROOT / "snippets")]
    second = [s.text for s in snippets(lesson, ROOT / "snippets")]
    assert first == second
    block = lesson.python_fences[16]
    assert first[16].endswith(block.code)
    assert f"# {lesson.path}:609\nimport torch.nn as nn\n" in first[16]
    training = next(f for f in lesson.python_fences if f.line == 158)
    assert "def train_step" not in first[14] and training.code not in first[14]
