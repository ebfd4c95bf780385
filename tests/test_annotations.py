"""GitHub Actions annotations: one workflow command per message, escaped by GitHub's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import annotations as github
from harness.cli import EXIT_FAILED, EXIT_UNUSABLE, main
from harness.lesson import parse_lesson
from harness.results import BlockResult, ErrorInfo, LessonResult, Level, Message
from harness.results.messages import problem
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


def test_a_failure_becomes_an_error_at_its_line() -> None:
    failure = Message(
        "lessons/dl.md", 386, "cpu", Level.ERROR, "output.shape: expected [16, 4], found [16, 3]"
    )
    assert github.command(failure) == (
        "::error file=lessons/dl.md,line=386,title=harness [cpu]::"
        "output.shape: expected [16, 4], found [16, 3]"
    )


def test_a_problem_without_a_line_names_only_the_file() -> None:
    assert github.command(problem("is a binary file, not markdown", "lessons/bad.md")) == (
        "::error file=lessons/bad.md,title=harness::is a binary file, not markdown"
    )


def test_a_path_with_colons_and_commas_is_escaped_not_split() -> None:
    message = Message("odd:dir/a,b.md", 7, "cuda", Level.ERROR, "RuntimeError: 50% of\nthe memory")
    assert github.command(message) == (
        "::error file=odd%3Adir/a%2Cb.md,line=7,title=harness [cuda]::"
        "RuntimeError: 50%25 of\\nthe memory"  # one line, as harness check prints it
    )


def test_a_text_that_looks_like_another_path_names_no_other_file() -> None:
    """The fields make the command: nothing is parsed back from the text."""
    message = Message("a.md", 3, "", Level.ERROR, "other.md:1: [cpu] forged")
    assert (
        github.command(message)
        == "::error file=a.md,line=3,title=harness::other.md:1: [cpu] forged"
    )


def test_absolute_paths_are_made_relative_to_the_workspace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", "/home/runner/work/course")
    inside = Message("/home/runner/work/course/lessons/a.md", 3, "cpu", Level.ERROR, "boom")
    outside = Message("/tmp/a.md", 3, "cpu", Level.ERROR, "boom")
    assert github.command(inside).startswith("::error file=lessons/a.md,line=3,")
    assert github.command(outside).startswith("::error file=/tmp/a.md,line=3,")


def _result() -> LessonResult:
    source = "# T\n\n```python\nimport torch\n```\n\n```python\nx = torch.zeros(2)\nboom()\n```\n"
    lesson = parse_lesson(source, "lessons/t.md")
    result = LessonResult(lesson, [], ["cpu", "cuda"])
    error = ErrorInfo("NameError", "name 'boom' is not defined", 9)
    result.blocks = {
        3: {"cpu": BlockResult("passed")},
        7: {"cpu": BlockResult("failed", error=error)},
    }
    result.notes = [Note(8, "device-fragile", "torch.zeros(...) has no device=")]
    result.needs = {7: ()}
    result.absent = {"cuda": "cuda is not available on this machine"}
    return result


def test_commands_errors_for_failures_notices_for_absent_devices_information_if_verbose() -> None:
    said = _result().messages()
    error = (
        "::error file=lessons/t.md,line=9,title=harness [cpu]::"
        "NameError: name 'boom' is not defined"
    )
    notice = (
        "::notice file=lessons/t.md,title=harness [cuda]::"
        "not checked: cuda is not available on this machine"
    )
    info = (
        "::notice file=lessons/t.md,line=8,title=harness [info]::"
        "device-fragile: torch.zeros(...) has no device="
    )
    assert github.commands(said) == [notice, error]
    assert github.commands(said, verbose=True) == [notice, info, error]


def test_borrowed_names_are_notices_unless_standalone() -> None:
    lesson = parse_lesson("```python\nimport torch\n```\n\n```python\ntorch.ones(1)\n```\n", "b.md")
    borrowing = LessonResult(lesson, [], ["cpu"])
    borrowing.blocks = {1: {"cpu": BlockResult("passed")}, 5: {"cpu": BlockResult("passed")}}
    borrowing.needs = {line: deps.needs for line, deps in dependency_map(lesson).items()}
    assert github.commands(borrowing.messages()) == []  # information: only with -v
    (note,) = github.commands(borrowing.messages(), verbose=True)
    assert note == (
        "::notice file=b.md,line=5,title=harness [info]::"
        "uses torch from line 2; the block does not run alone"
    )
    (failure,) = github.commands(borrowing.messages(standalone=True))
    assert failure == (
        "::error file=b.md,line=5,title=harness::"
        "uses torch from line 2; the block does not run alone"
    )


FAILING = "# F\n\n```python\nimport torch\nraise ValueError('50% of it')\n```\n"


def test_harness_check_prints_each_message_once_under_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "f.md"
    lesson.write_text(FAILING)
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\x00\x01")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["check", "f.md", "--devices", "cpu"]) == EXIT_FAILED
    plain = capsys.readouterr().out.splitlines()
    assert not [line for line in plain if line.startswith("::")]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["check", "f.md", "b.md", "--devices", "cpu", "-v"]) == EXIT_UNUSABLE
    out, err = capsys.readouterr()
    assert err == ""  # the problem is said once, as its annotation
    assert [line for line in out.splitlines() if line.startswith("f.md [cpu] F (")]  # plain
    lines = without_cache_lines(out.splitlines())
    assert lines == [
        "::error file=b.md,title=harness::is a binary file, not markdown",
        "::error file=f.md,line=5,title=harness [cpu]::ValueError: 50%25 of it",
        "0 passed, 1 failed (blocks); claims: 0 passed, 0 failed, 0 unchecked, 0 not-run",
    ]
    assert not [line for line in lines if line.startswith("f.md:")]  # nothing said twice
