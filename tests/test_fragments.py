"""Method fragments: an indented method shown after the class it belongs to runs as part of it
(llm.c's layernorm doc shows ``backward`` this way), instead of failing with an
IndentationError; with no class before it, it still fails at its line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.lesson import read_lesson
from harness.lesson.fragments import is_fragment, last_class
from harness.static.snippets import snippets
from tests.lessons import harness_check
from tests.paths import ROOT

SAMPLES = ROOT / "tests" / "samples" / "formats"


def test_an_indented_method_after_a_class_is_a_fragment_of_that_class() -> None:
    lesson = read_lesson(SAMPLES / "fragments.md")
    fragment = [fence for fence in lesson.python_fences if fence.fragment_of]
    assert [(fence.line, fence.fragment_of) for fence in fragment] == [(16, "Scale")]
    assert fragment[0].tree is not None
    assert fragment[0].tree.body[0].lineno == 16  # the class header takes the fence's line
    assert read_lesson(SAMPLES / "fragment_alone.md").python_fences[0].fragment_of == ""


def test_what_is_a_fragment() -> None:
    assert is_fragment("    @staticmethod\n    def f(x):\n        return x\n")
    assert is_fragment("    # the backward pass\n    def f(x):\n        return x\n")
    assert not is_fragment("    x = 1\n")  # an indented statement, not a method
    assert not is_fragment("def f(x):\n    return x\n")  # not indented
    assert last_class([None]) == ""


def test_a_fragment_runs_as_a_method_and_its_claims_are_checked(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = harness_check(
        str(SAMPLES / "fragments.md"), "--devices", "cpu", "--no-cache", "--json", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lesson = json.loads(out.read_text())["lessons"][0]
    assert {b["line"]: b["results"]["cpu"]["status"] for b in lesson["blocks"]} == {
        5: "passed",
        16: "passed",
        25: "passed",
    }
    verdicts = {c["line"]: c["results"]["cpu"]["verdict"] for c in lesson["claims"]}
    assert verdicts == {19: "passed", 29: "passed"}


def test_a_wrong_claim_in_a_fragment_fails_at_its_line() -> None:
    done = harness_check(str(SAMPLES / "fragments_wrong.md"), "--devices", "cpu", "--no-cache")
    assert done.returncode == 1
    assert "fragments_wrong.md:19: [cpu] dx: expected [3, 2], found [2, 3]" in done.stdout


def test_a_method_with_no_class_before_it_still_fails_at_its_line() -> None:
    done = harness_check(str(SAMPLES / "fragment_alone.md"), "--devices", "cpu", "--no-cache")
    assert done.returncode == 1
    assert "fragment_alone.md:4: [cpu] IndentationError: unexpected indent" in done.stdout


def test_the_snippet_of_a_fragment_runs_on_its_own(tmp_path: Path) -> None:
    lesson = read_lesson(SAMPLES / "fragments.md")
    text = snippets(lesson, tmp_path)[-1].text  # the block at line 25
    assert "fragments.md:26 (the block" in text
    assert "class __harness_fragment__:  # methods of Scale" in text
    script = tmp_path / "last.py"
    script.write_text(text)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "torch.Size([2, 3])" in run.stdout
