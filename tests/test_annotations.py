"""GitHub Actions annotations: one workflow command per message, escaped by GitHub's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import annotations as github
from harness.cli import EXIT_FAILED, EXIT_UNUSABLE, main
from harness.lesson import parse_lesson
from harness.results import BlockResult, ErrorInfo, LessonResult
from harness.static.depends import dependency_map
from harness.static.lint import Note
from tests.test_bad_input import without_cache_lines


def test_enabled_only_under_github_actions() -> None:
    assert github.enabled({"GITHUB_ACTIONS": "true"})
    assert not github.enabled({"GITHUB_ACTIONS": "false"})
    assert not github.enabled({"CI": "true"})
    assert not github.enabled({})


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_a_failure_line_becomes_an_error_at_its_line() -> None:
    line = "lessons/dl.md:386: [cpu] output.shape: expected [16, 4], found [16, 3]"
    assert github.command("error", line) == (
        "::error file=lessons/dl.md,line=386,title=harness [cpu]::"
        "output.shape: expected [16, 4], found [16, 3]"
    )


def test_a_problem_without_a_line_names_only_the_file() -> None:
    assert github.command("error", "lessons/bad.md: is a binary file, not markdown") == (
        "::error file=lessons/bad.md,title=harness::is a binary file, not markdown"
    )


def test_a_known_path_with_colons_and_commas_is_escaped_not_split() -> None:
    path = "odd:dir/a,b.md"
    line = f"{path}:7: [cuda] RuntimeError: 50% of\nthe memory"
    assert github.command("error", line, path) == (
        "::error file=odd%3Adir/a%2Cb.md,line=7,title=harness [cuda]::"
        "RuntimeError: 50%25 of\\nthe memory"  # one line, as harness check prints it
    )


def test_absolute_paths_are_made_relative_to_the_workspace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", "/home/runner/work/course")
    inside = "/home/runner/work/course/lessons/a.md:3: [cpu] boom"
    outside = "/tmp/a.md:3: [cpu] boom"
    assert github.command("error", inside).startswith("::error file=lessons/a.md,line=3,")
    assert github.command("error", outside).startswith("::error file=/tmp/a.md,line=3,")


def _result() -> LessonResult:
    source = "# T\n\n```python\nimport torch\n```\n\n```python\nx = torch.zeros(2)\nboom()\n```\n"
    lesson = parse_lesson(source, "lessons/t.md")
    result = LessonResult(lesson, [], ["cpu"])
    error = ErrorInfo("NameError", "name 'boom' is not defined", 9)
    result.blocks = {
        3: {"cpu": BlockResult("passed")},
        7: {"cpu": BlockResult("failed", error=error)},
    }
    result.notes = [Note(8, "device-fragile", "torch.zeros(...) has no device=")]
    result.needs = {7: ()}
    return result


def test_commands_of_a_result_errors_for_failures_notices_for_information() -> None:
    result = _result()
    assert github.commands([result], ["lessons/x.md:1: is not UTF-8 (byte 0)"]) == [
        "::error file=lessons/x.md,line=1,title=harness::is not UTF-8 (byte 0)",
        "::error file=lessons/t.md,line=9,title=harness [cpu]::"
        "NameError: name 'boom' is not defined",
        "::notice file=lessons/t.md,line=8,title=harness [info]::"
        "device-fragile: torch.zeros(...) has no device=",
    ]


def test_borrowed_names_are_notices_unless_standalone() -> None:
    result = _result()
    lesson = parse_lesson("```python\nimport torch\n```\n\n```python\ntorch.ones(1)\n```\n", "b.md")
    borrowing = LessonResult(lesson, [], ["cpu"])
    borrowing.blocks = {1: {"cpu": BlockResult("passed")}, 5: {"cpu": BlockResult("passed")}}
    borrowing.needs = {line: deps.needs for line, deps in dependency_map(lesson).items()}
    (note,) = github.commands([borrowing])
    assert note == (
        "::notice file=b.md,line=5,title=harness [info]::"
        "uses torch from line 2; the block does not run alone"
    )
    (failure,) = github.commands([borrowing], standalone=True)
    assert failure == (
        "::error file=b.md,line=5,title=harness::"
        "uses torch from line 2; the block does not run alone"
    )
    assert len(github.commands([result], standalone=True)) == 2


FAILING = "# F\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 4]\n```\n"


def test_harness_check_prints_them_under_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "f.md"
    lesson.write_text(FAILING)
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\x00\x01")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["check", "f.md", "--devices", "cpu"]) == EXIT_FAILED
    plain = capsys.readouterr().out.splitlines()
    assert not [line for line in plain if line.startswith("::")]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["check", "f.md", "b.md", "--devices", "cpu"]) == EXIT_UNUSABLE
    out, err = capsys.readouterr()
    assert err.splitlines() == ["b.md: is a binary file, not markdown"]
    assert without_cache_lines(out.splitlines()) == [
        "f.md:5: [cpu] x: expected [2, 4], found [2, 3]: dimension 2 is 4, found 3",
        "::error file=b.md,title=harness::is a binary file, not markdown",
        "::error file=f.md,line=5,title=harness [cpu]::"
        "x: expected [2, 4], found [2, 3]: dimension 2 is 4, found 3",
        "0 passed, 1 failed (blocks); claims: 0 passed, 1 failed, 0 unchecked, 0 not-run",
    ]
