"""The command authors run: output lines, closing line, exit codes, JSON results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, main
from tests.conftest import LESSON, ROOT
from tests.lessons import mutate


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_check_the_lesson_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = run("check", "lessons/dl.md", "--json", str(out))
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("17 passed, 0 failed, 1 not-run (blocks)")
    document = json.loads(out.read_text())
    assert document["schema"] == 1
    assert set(document["environment"]) >= {"python", "torch", "devices"}
    (lesson,) = document["lessons"]
    assert (lesson["path"], lesson["id"]) == ("lessons/dl.md", "dl")
    bash = lesson["blocks"][0]
    assert (bash["line"], bash["language"], bash["results"]["cpu"]["status"]) == (
        38,
        "bash",
        "not-run",
    )
    claim = next(c for c in lesson["claims"] if c["line"] == 111)
    assert claim["text"] == "[1, 3]" and claim["kind"] == "shape"
    assert claim["subject"] == "output.shape"
    assert claim["results"]["cpu"]["verdict"] == "passed"
    block = next(b for b in lesson["blocks"] if b["line"] == 158)
    assert "Epoch 10, Loss:" in block["results"]["cpu"]["stdout"]


def test_a_failure_prints_its_line_and_exits_1(tmp_path: Path) -> None:
    lesson = tmp_path / "dl.md"
    lesson.write_text(mutate(386, "# [16, 3]", "# [16, 4]"))
    done = run("check", str(lesson))
    assert done.returncode == EXIT_FAILED
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"{lesson}:386: [cpu] output.shape: expected [16, 4], found [16, 3]: "
        "dimension 2 is 4, found 3"
    )
    assert lines[-1].startswith("16 passed, 1 failed, 1 not-run (blocks)")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"\xff\xfe", "is not UTF-8"),
        (b"# Just prose\n\n```bash\nls\n```\n", "no Python blocks found"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    tmp_path: Path, content: bytes | None, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lesson.md"
    if content is not None:
        path.write_bytes(content)
    assert main(["check", str(path)]) == EXIT_UNUSABLE
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{path}") and reason in err[0]


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--devices", ""])
    assert exited.value.code == EXIT_UNUSABLE


def test_one_broken_lesson_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes(b"\xff")
    (tmp_path / "good.md").write_text(
        "```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n```\n"
    )
    done = run("check", str(tmp_path), "--json", str(tmp_path / "r.json"))
    assert done.returncode == EXIT_UNUSABLE
    assert f"{tmp_path}/bad.md:1: is not UTF-8" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("1 passed, 0 failed")
    document = json.loads((tmp_path / "r.json").read_text())
    assert [lesson["id"] for lesson in document["lessons"]] == ["good"]
    assert document["problems"] == [f"{tmp_path}/bad.md:1: is not UTF-8 (byte 0)"]


def test_isolated_mode_and_portability_lint(tmp_path: Path) -> None:
    done = run("check", "lessons/dl.md", "--isolated", "--json", str(tmp_path / "r.json"))
    assert done.returncode == EXIT_OK, done.stdout
    assert "lessons/dl.md:703: [info] uses nn from line 609, torch from line 681" in done.stdout
    (lesson,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    needs = {b["line"]: b["needs"] for b in lesson["blocks"] if b["needs"]}
    assert sorted(needs) == [92, 158, 343, 393, 461, 509, 566, 680, 703]
    assert needs[158] == [{"name": "MLP", "line": 93}]
    strict = run("check", "lessons/dl.md", "--standalone")
    assert strict.returncode == EXIT_FAILED
    assert "lessons/dl.md:158: uses MLP from line 93" in strict.stdout


def test_a_hidden_dependency_is_named_when_a_block_runs_alone(tmp_path: Path) -> None:
    lesson = tmp_path / "hidden.md"
    lesson.write_text(
        "```python\nglobals()['answer'] = 42\ndefined = True\n```\n\n"
        "```python\nprint(answer)\n```\n"
    )
    assert run("check", str(lesson)).returncode == EXIT_OK
    done = run("check", str(lesson), "--isolated")
    assert done.returncode == EXIT_FAILED
    assert f"{lesson}:7: [cpu] NameError: name 'answer' is not defined (run alone" in done.stdout


def test_default_path_is_lessons_folder() -> None:
    assert LESSON.parent.name == "lessons"
    done = run("check", "--json", "/dev/null")
    assert done.returncode == EXIT_OK


def test_a_hanging_or_exiting_block_fails_at_its_line_and_the_rest_is_reported(
    tmp_path: Path,
) -> None:
    samples = ROOT / "tests" / "samples"
    good = tmp_path / "good.md"
    good.write_text("```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n```\n")
    done = run(
        "check",
        str(samples / "hangs_and_exits.md"),
        str(samples / "exits.md"),
        str(good),
        "--time-limit",
        "4",
        "--devices",
        "cpu",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == EXIT_FAILED
    lines = done.stdout.splitlines()
    assert (
        "tests/samples/hangs_and_exits.md:10: [cpu] TimeLimit: the block ran longer than 4 s"
        in (lines[0])
    )
    assert lines[1].endswith(
        "tests/samples/exits.md:5: [cpu] WorkerCrash: the process running the block exited "
        "with code 3"
    )
    assert lines[-1].startswith("3 passed, 2 failed, 2 not-run (blocks); claims: 1 passed")
    lessons = json.loads((tmp_path / "r.json").read_text())["lessons"]
    assert [lesson["blocks"][-1]["results"]["cpu"]["status"] for lesson in lessons] == [
        "not-run",
        "not-run",
        "passed",
    ]
