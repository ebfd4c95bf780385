"""Authors' tools and scale: the pre-commit hook, the example workflow, ``--shard K/N``."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, _parser, main
from tests.paths import ROOT
from tests.test_bad_input import without_cache_lines

GOOD = "# Good\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n```\n"
FAILING = "# Failing\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 4]\n```\n"


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1
    found: dict[str, Any] = hooks[0]
    return found


def test_the_pre_commit_hook_is_declared() -> None:
    declared = hook()
    assert declared["id"] == "harness-check"
    assert declared["language"] == "python"
    assert declared["pass_filenames"] is True
    files = re.compile(declared["files"])
    assert [bool(files.search(p)) for p in ("lessons/a.md", "README.md", "a.py", "a.mdx")] == [
        True,
        True,
        False,
        False,
    ]
    entry = shlex.split(declared["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[entry[0]] == "harness.cli:main"  # what pre-commit's venv puts on PATH
    _parser().parse_args(entry[1:])  # its options exist (argparse exits 2 otherwise)


def run_hook(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook as pre-commit does: entry, args, then the changed files its pattern takes."""
    declared = hook()
    pattern = re.compile(declared["files"])
    chosen = [str(f.relative_to(cwd)) for f in files if pattern.search(str(f))]
    entry = shlex.split(declared["entry"])
    script = shutil.which(entry[0], path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "harness.cli"]
    return subprocess.run(
        [*command, *entry[1:], *declared.get("args", []), "--devices", "cpu", *chosen],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"},
    )


def test_the_hook_passes_good_lessons_and_prose_and_fails_a_failing_lesson(
    tmp_path: Path,
) -> None:
    readme, good, failing, code = (
        tmp_path / "README.md",
        tmp_path / "good.md",
        tmp_path / "failing.md",
        tmp_path / "setup.py",
    )
    readme.write_text("# Course\n\nNo code here.\n")
    good.write_text(GOOD)
    failing.write_text(FAILING)
    code.write_text("raise SystemExit(3)\n")
    passed = run_hook([readme, good, code], tmp_path)
    assert (passed.returncode, passed.stderr) == (EXIT_OK, ""), passed.stdout
    assert without_cache_lines(passed.stdout.splitlines()) == [
        "1 passed, 0 failed (blocks); claims: 1 passed, 0 failed, 0 unchecked, 0 not-run"
    ]
    failed = run_hook([readme, good, failing], tmp_path)
    assert failed.returncode == EXIT_FAILED
    assert failed.stdout.splitlines()[0] == (
        "failing.md:5: [cpu] x: expected [2, 4], found [2, 3]: dim 1 is 4, found 3"
    )
    assert "Traceback" not in failed.stderr


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed")
@pytest.mark.skipif(
    os.environ.get("HARNESS_TRY_REPO") != "1",
    reason="slow (pre-commit builds a virtualenv with torch, about 60 s a run): "
    "set HARNESS_TRY_REPO=1",
)
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    """The real thing: pre-commit installs this repository's hook and runs it on a course."""

    def git(cwd: Path, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    # this working tree as committed files (try-repo leaves untracked files out)
    harness = tmp_path / "harness"
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (harness / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, harness / name)
    git(harness, "init", "-q")
    git(harness, "add", "-A")
    git(harness, "commit", "-qm", "harness")
    course = tmp_path / "course"
    (course / "lessons").mkdir(parents=True)
    (course / "README.md").write_text("# Course\n")
    (course / "lessons" / "good.md").write_text("```python\nx = 1\n```\n")
    git(course, "init", "-q")

    def try_repo() -> subprocess.CompletedProcess[str]:
        git(course, "add", "-A")
        return subprocess.run(
            ["pre-commit", "try-repo", str(harness), "harness-check", "--all-files"],
            cwd=course,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"},
        )

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"harness check \(lessons\)\.+Passed", passed.stdout)
    (course / "lessons" / "failing.md").write_text('```python\nassert 1 == 2, "wrong"\n```\n')
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "lessons/failing.md:2: [cpu] AssertionError: wrong" in failed.stdout


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "lessons.yml").read_text())
    assert isinstance(data, dict)
    return data


def harness_commands(job: dict[str, Any]) -> list[list[str]]:
    commands = []
    for step in job["steps"]:
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if words[:1] == ["harness"]:
                commands.append(words[1:])
    return commands


def test_the_example_workflow_runs_real_commands() -> None:
    """Every ``harness`` command of the workflow parses, so renaming an option breaks this."""
    jobs = workflow()["jobs"]
    assert set(jobs) == {"cpu", "gpu", "report"}
    assert "gpu" in jobs["gpu"]["runs-on"] and "self-hosted" in jobs["gpu"]["runs-on"]
    parsed = {}
    for name, job in jobs.items():
        (argv,) = harness_commands(job)
        parsed[name] = _parser().parse_args(argv)  # argparse exits 2 on a stale option
    assert (parsed["cpu"].command, parsed["cpu"].devices) == ("check", ["cpu"])
    assert (parsed["gpu"].command, parsed["gpu"].devices) == ("check", ["cuda"])
    assert parsed["report"].command == "report"
    written = [parsed["cpu"].json, parsed["gpu"].json]
    assert parsed["report"].inputs == written  # the report merges what the checks wrote
    assert parsed["report"].out == Path("reports")
    steps = {
        name: [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload")]
        for name, job in jobs.items()
    }
    # failed lessons are what the report is for: their results are uploaded all the same
    assert [s.get("if") for s in steps["cpu"] + steps["gpu"]] == ["always()", "always()"]
    uploads = {name: [s["with"] for s in found] for name, found in steps.items()}
    assert [u["path"] for u in uploads["cpu"] + uploads["gpu"]] == [str(p) for p in written]
    (download,) = [s for s in jobs["report"]["steps"] if "download-artifact" in s.get("uses", "")]
    pattern = download["with"]["pattern"].replace("*", ".*")
    assert all(re.fullmatch(pattern, u["name"]) for u in uploads["cpu"] + uploads["gpu"])
    assert uploads["report"][0]["path"] == "reports/"
    assert jobs["report"]["needs"] == ["cpu", "gpu"] and jobs["report"]["if"] == "always()"


def test_shards_split_the_sorted_lessons_without_overlap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("e", "a", "d", "b", "c"):
        (tmp_path / f"{name}.md").write_text(GOOD)
    (tmp_path / "bad.md").write_bytes(b"\xff")
    shards = []
    for k in (1, 2, 3):
        out = tmp_path / f"r{k}.json"
        code = main(
            ["check", str(tmp_path), "--devices", "cpu", "--shard", f"{k}/3", "--json", str(out)]
        )
        document = json.loads(out.read_text())
        shards.append([Path(lesson["path"]).stem for lesson in document["lessons"]])
        err = capsys.readouterr().err.splitlines()
        if k == 1:  # unusable input is reported once, by the first shard
            assert (code, err) == (EXIT_UNUSABLE, [f"{tmp_path}/bad.md:1: is not UTF-8 (byte 0)"])
            assert document["problems"] == err
        else:
            assert (code, err, document["problems"]) == (EXIT_OK, [], [])
    assert shards == [["a", "d"], ["b", "e"], ["c"]]


@pytest.mark.parametrize("shard", ["0/3", "4/3", "a/b", "3", "1/0", " 1/3"])
def test_a_bad_shard_is_an_argument_error(shard: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--shard", shard])
    assert exited.value.code == EXIT_UNUSABLE
    assert "argument --shard: expected K/N with 1 <= K <= N" in capsys.readouterr().err
