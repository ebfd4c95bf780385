"""Snippets: one per block, each runs alone, committed, checked for staleness."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.lesson import parse_lesson, read_lesson
from harness.static.snippets import snippets, stale
from tests.lessons import mutate
from tests.paths import ROOT

SNIPPETS = ROOT / "snippets" / "dl"


# A new interpreter in an empty environment imports torch (the first thing every snippet
# does: 1.3 s of the 1.5-10 s each took in an interpreter of its own), then forks one
# process per snippet, two at a time; each runs its file as ``python FILE`` does: in the
# file's folder, as __main__, in a namespace of its own (a snippet that uses torch without
# importing it fails, as it would for a reader). It prints one JSON line per snippet: the
# path, the exit code, the end of its stderr.
FORKS = r"""
import json, os, runpy, sys, tempfile, traceback
import torch

def child(path, err):
    os.dup2(err, 2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.chdir(os.path.dirname(path))
    sys.argv, sys.path[0] = [path], os.path.dirname(path)
    code = 0
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as ended:  # as Python ends on one
        if ended.code is None or isinstance(ended.code, int):
            code = ended.code or 0
        else:
            print(ended.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)

running, paths = {}, sys.argv[1:]
while paths or running:
    while paths and len(running) < 2:
        path = paths.pop(0)
        err = tempfile.TemporaryFile()
        pid = os.fork()
        if pid == 0:
            child(path, err.fileno())
        running[pid] = (path, err)
    pid, status = os.wait()
    path, err = running.pop(pid)
    err.seek(0)
    tail = err.read().decode(errors="replace")[-500:]
    print(json.dumps([path, os.waitstatus_to_exitcode(status), tail]), flush=True)
"""


def _run(paths: list[Path]) -> dict[str, tuple[int, str]]:
    """Each snippet's exit code and the end of its stderr, by file name (``FORKS``)."""
    done = subprocess.run(
        [sys.executable, "-c", FORKS, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    lines = map(json.loads, done.stdout.splitlines())
    return {Path(path).name: (code, err) for path, code, err in lines}


def test_every_committed_snippet_runs_in_a_new_process() -> None:
    files = sorted(SNIPPETS.glob("*.py"))
    assert len(files) == 17
    assert (SNIPPETS / "09_lstmclassifier.py").exists()
    ran = _run(files)
    assert sorted(ran) == [path.name for path in files]
    assert {name: result for name, result in ran.items() if result[0] != 0} == {}


def test_a_snippet_that_fails_as_python_runs_it_fails_here(tmp_path: Path) -> None:
    """The forks share torch's import, never a namespace: torch used without its import is a
    NameError; an exit code is the snippet's; it runs in its own folder."""
    (tmp_path / "no_import.py").write_text("x = torch.zeros(2)\n")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "says.py").write_text("raise SystemExit('no data')\n")
    (tmp_path / "reads_beside.py").write_text("print(open('data.txt').read())\n")
    (tmp_path / "data.txt").write_text("in the snippet's folder\n")
    ran = _run(sorted(tmp_path.glob("*.py")))
    assert ran["no_import.py"][0] == 1
    assert "NameError: name 'torch' is not defined" in ran["no_import.py"][1]
    assert ran["exits.py"] == (3, "")
    assert ran["says.py"] == (1, "no data\n")
    assert ran["reads_beside.py"] == (0, "")


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


BLOCK = "```python\nx = 1\n```\n"


def _extract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, list[str], list[str]]:
    monkeypatch.chdir(tmp_path)
    code = main(["extract", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_an_id_that_leads_out_of_the_output_folder_is_unusable_and_nothing_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``...md`` once gave the id ``..``: extract wrote into the folder above ``snippets/`` and
    deleted every ``.py`` file there."""
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "...md").write_text(BLOCK)
    (tmp_path / "lessons" / "up.md").write_text("---\ntitle: t\nid: ..\n---\n" + BLOCK)
    (tmp_path / "lessons" / "slash.md").write_text("---\nid: a/b\n---\n" + BLOCK)
    (tmp_path / "lessons" / "dot.md").write_text("---\nid: .git\n---\n" + BLOCK)
    (tmp_path / "snippets").mkdir()
    victims = [tmp_path / "setup.py", tmp_path / "snippets" / "notes.py"]
    for victim in victims:
        victim.write_text("mine\n")
    code, out, err = _extract(tmp_path, capsys, monkeypatch)
    assert (code, out) == (2, [])
    assert [line.split(": ")[0] for line in err] == [
        "lessons/...md:1",
        "lessons/dot.md:2",
        "lessons/slash.md:2",
        "lessons/up.md:3",
    ]
    assert "gives no usable lesson id" in err[0] and "'..'" in err[3]
    assert all(victim.read_text() == "mine\n" for victim in victims)
    assert sorted(p.name for p in tmp_path.rglob("*.py")) == ["notes.py", "setup.py"]


def test_stale_snippets_are_only_files_extract_wrote_and_never_through_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lessons").mkdir()
    lesson = tmp_path / "lessons" / "l.md"
    lesson.write_text(BLOCK + "\n" + BLOCK.replace("x = 1", "y = 2"))
    assert _extract(tmp_path, capsys, monkeypatch)[0] == 0
    folder = tmp_path / "snippets" / "l"
    assert sorted(p.name for p in folder.iterdir()) == ["01_block.py", "02_block.py"]
    outside = tmp_path / "outside.py"
    outside.write_text("mine\n")
    (folder / "helper.py").write_text("# written by hand\n")
    (folder / "03_link.py").symlink_to(outside)
    (folder / "01_block.py").unlink()
    (folder / "01_block.py").symlink_to(outside)  # a link where a snippet goes: replaced
    lesson.write_text(BLOCK)
    code, out, err = _extract(tmp_path, capsys, monkeypatch, "--check")
    assert code == 1 and err == []
    assert out == [
        "snippets/l/01_block.py: stale: run `harness extract` and commit the result",
        "snippets/l/02_block.py: no longer made: run `harness extract` and commit the result",
    ]
    assert _extract(tmp_path, capsys, monkeypatch)[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == ["01_block.py", "03_link.py", "helper.py"]
    assert not (folder / "01_block.py").is_symlink()
    assert outside.read_text() == "mine\n"
    assert (folder / "helper.py").read_text() == "# written by hand\n"


def test_a_lesson_folder_that_is_a_link_out_of_the_output_folder_is_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "l.md").write_text(BLOCK)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "01_block.py").write_text("mine\n")
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "l").symlink_to(tmp_path / "elsewhere")
    code, out, err = _extract(tmp_path, capsys, monkeypatch)
    assert (code, out) == (2, [])
    assert err == [
        f"lessons/l.md:1: snippets/l leads to {tmp_path}/elsewhere, outside snippets: not written"
    ]
    assert (tmp_path / "elsewhere" / "01_block.py").read_text() == "mine\n"


def test_a_file_name_with_spaces_and_parentheses_is_a_lesson_with_a_safe_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "intro (copy).md").write_text(BLOCK)
    (tmp_path / "lessons" / "intro-copy.md").write_text(BLOCK)  # the same id: refused
    code, out, err = _extract(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert out == ["snippets/intro-copy/01_block.py"]
    assert err == [
        "lessons/intro-copy.md:1: lesson id 'intro-copy' is also the id of "
        "lessons/intro (copy).md: give one of them another `id:` in its front matter"
    ]


def test_snippets_are_named_by_the_heading_tokens_not_by_lines_that_look_like_headings() -> None:
    """The heading above a block comes from the one parse (``Lesson.tokens``): a ``# 2``
    comment in an earlier block is code, not a heading (a regex over the lines took it for
    one, naming the snippet ``02_2``); a setext heading is one; a block's first definition
    still comes first."""
    text = (
        "# Shapes\n\n```python\nimport torch\n# 2\nx = torch.zeros(2)\n```\n\n"
        "```python\ny = x + 1\n```\n\n"
        "Printed values\n==============\n\n```python\nprint(y)\n```\n\n"
        "## Models\n\n```python\nclass Net:\n    pass\n```\n"
    )
    lesson = parse_lesson(text, "named.md")
    names = [snippet.path.name for snippet in snippets(lesson, Path("out"))]
    assert names == ["01_shapes.py", "02_shapes.py", "03_printed_values.py", "04_net.py"]
