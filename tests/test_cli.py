"""The command authors run: output lines, closing line, exit codes, JSON results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, _parser, main
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
    assert done.stdout.splitlines()[-1].startswith("17 passed, 0 failed, 1 skipped (blocks)")
    document = json.loads(out.read_text())
    assert document["schema"] == 1
    assert set(document["environment"]) >= {"python", "torch", "devices"}
    (lesson,) = document["lessons"]
    assert (lesson["path"], lesson["id"]) == ("lessons/dl.md", "dl")
    bash = lesson["blocks"][0]
    assert (bash["line"], bash["language"], bash["results"]["cpu"]["status"]) == (
        38,
        "bash",
        "skipped",  # not Python: skipped with its language (issue 13)
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
    assert lines[-1].startswith("16 passed, 1 failed, 1 skipped (blocks)")


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
        "--devices",
        "cpu",
        "--json",
        str(tmp_path / "r.json"),
    )  # the hanging block's own directive limits it to 4 s; the worker start has 300 s
    assert done.returncode == EXIT_FAILED
    lines = done.stdout.splitlines()
    assert lines[:3] == [  # sorted by path, whatever order the lessons were given or ran in
        f"{samples}/exits.md:5: [cpu] WorkerCrash: the process running the block exited "
        "with code 3",
        f"{samples}/hangs_and_exits.md:11: [cpu] TimeLimit: the block ran longer than 4 s "
        "(the blocks after it ran in a new worker, from line 18)",
        f"{samples}/hangs_and_exits.md:18: [cpu] WorkerCrash: the process running the block "
        "exited with code 3",  # resumed after the time limit: a crash ends the run
    ]
    assert lines[-1].startswith("3 passed, 3 failed, 1 not-run (blocks); claims: 1 passed")
    lessons = json.loads((tmp_path / "r.json").read_text())["lessons"]
    last = {Path(lesson["path"]).name: lesson["blocks"][-1] for lesson in lessons}
    assert {name: block["results"]["cpu"]["status"] for name, block in last.items()} == {
        "hangs_and_exits.md": "failed",
        "exits.md": "not-run",
        "good.md": "passed",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        *(
            (
                ["--time-limit", bad],
                f"argument --time-limit: expected seconds above 0 and at most 604800 (a week), "
                f"not '{bad}'",
            )
            for bad in ("-1", "0", "nan", "inf", "-inf", "1e999", "604801", "soon")
        ),
        *(
            (
                ["--memory-limit", bad],
                "argument --memory-limit: expected whole megabytes from 0 (no limit) to "
                f"1000000000 (a petabyte), not '{bad}'",
            )
            for bad in ("-1", "nan", "inf", "1.5", "1000000001", "9" * 40)
        ),
        (
            ["--devices", "bogus"],
            "argument --devices: unknown device 'bogus': expected a comma-separated list of "
            "cpu, cuda, mps, xpu, meta, all",
        ),
        (["--devices", "cpu,gpu"], "argument --devices: unknown device 'gpu'"),
    ],
)
def test_bad_limits_and_devices_are_one_line_argument_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "lessons/dl.md", f"{args[0]}={args[1]}"])
    assert exited.value.code == EXIT_UNUSABLE
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"harness check: error: {message}")
    assert err.endswith(" (see harness check --help)\n")


def test_good_limits_and_devices_are_taken() -> None:
    args = _parser().parse_args(
        ["check", "--time-limit", "0.5", "--memory-limit", "0", "--devices", "cpu,meta"]
    )
    assert (args.time_limit, args.memory_limit, args.devices) == (0.5, 0, ["cpu", "meta"])
    args = _parser().parse_args(["check", "--time-limit", "604800", "--memory-limit", "1000000000"])
    assert (args.time_limit, args.memory_limit) == (604800.0, 10**9)


def test_an_output_that_cannot_be_written_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lesson named would run for minutes before a results file in a folder failed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    lesson = tmp_path / "never.md"
    lesson.write_text("```python\nopen('ran', 'w')\n```\n")
    cases = [
        (["--json", "folder"], "argument --json: 'folder' is a folder, not a file"),
        (["--json", "file/r.json"], "argument --json: 'file/r.json' cannot be written: file is"),
        (["--report", "file"], "argument --report: 'file' is a file, not a folder"),
        (["--report", "file/x"], "argument --report: 'file/x' cannot be written: file is a file"),
        (["--json", "/proc/none/r.json"], "argument --json: '/proc/none/r.json' cannot be written"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exited:
            main(["check", str(lesson), "--no-cache", *args])
        assert exited.value.code == EXIT_UNUSABLE
        out, err = capsys.readouterr()
        assert out == "" and len(err.splitlines()) == 1
        assert err.startswith(f"harness check: error: {message}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder", "never.md"]


def test_failure_lines_are_sorted_by_path_line_and_device(tmp_path: Path) -> None:
    """Whatever order lessons are given, devices asked for, or workers finish in."""
    lesson = "```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 4]\n```\n\n"
    lesson += "```python\ny = torch.ones(3)  # [4]\n```\n"
    for name in ("b.md", "a.md"):
        (tmp_path / name).write_text(lesson)
    done = run("check", "b.md", "a.md", "--devices", "meta,cpu", "--no-cache", cwd=tmp_path)
    assert done.returncode == EXIT_FAILED, done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if "expected" in line]
    assert [line.split("] ")[0] + "]" for line in failures] == [
        "a.md:3: [cpu]",
        "a.md:3: [meta]",
        "a.md:7: [cpu]",
        "a.md:7: [meta]",
        "b.md:3: [cpu]",
        "b.md:3: [meta]",
        "b.md:7: [cpu]",
        "b.md:7: [meta]",
    ]


# ---------------------------------------------------------------- output integrity (issue 11)

ONE_BLOCK = "# L\n\n```python\nx = 1\n```\n"


def test_a_lesson_named_twice_is_read_once_and_sharded_once(tmp_path: Path) -> None:
    from harness.cli import find_lessons, shard

    folder = tmp_path / "lessons"
    folder.mkdir()
    for name in ("a.md", "b.md", "c.md"):
        (folder / name).write_text(ONE_BLOCK)
    (tmp_path / "link.md").symlink_to(folder / "a.md")
    (folder / "bad.md").write_bytes(b"\x00\x01")
    a, b = str(folder / "a.md"), str(folder / "b.md")
    given = [a, a, f"{folder}/./a.md", str(tmp_path / "link.md"), str(folder), b, str(folder)]
    lessons, problems = find_lessons(given)
    assert [lesson.path for lesson in lessons] == [a, f"{folder}/b.md", f"{folder}/c.md"]
    assert problems == [f"{folder}/bad.md: is a binary file, not markdown"]
    twice = lessons + lessons  # shard() alone also counts a path once
    shards = [shard(twice, k, 2) for k in (1, 2)]
    assert sorted(lesson.path for part in shards for lesson in part) == sorted(
        lesson.path for lesson in lessons
    )
    assert [len(part) for part in shards] == [2, 1]


def test_check_names_a_lesson_once_however_often_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("```python\nimport torch\nx = torch.zeros(2)  # [3]\n```\n")
    done = run("check", "a.md", "./a.md", ".", "--devices", "cpu", "--no-cache", cwd=tmp_path)
    assert done.returncode == EXIT_FAILED, done.stdout + done.stderr
    assert done.stdout.count("a.md:3: [cpu] x: expected [3]") == 1
    assert done.stdout.splitlines()[-1].startswith("0 passed, 1 failed (blocks)")


INTEGRITY = """# Output integrity

```python
print("a\\udc80b")
```

```python
raise ValueError("bad \\udc80 here")
```

```python
raise ValueError("ok\\nlessons/dl.md:1: [cpu] forged failure\\x1b[31m")
```
"""


def test_messages_are_one_line_and_undecodable_output_is_escaped(tmp_path: Path) -> None:
    """A lone surrogate in output or a message, a newline or ESC in a message: the JSON is
    valid UTF-8, the report is written whole, each message (and annotation) is one line."""
    (tmp_path / "odd.md").write_text(INTEGRITY)
    outputs = ["--json", "out/results.json", "--report", "out/report"]
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", "odd.md", "--devices", "cpu", *outputs],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, "GITHUB_ACTIONS": "true", "HARNESS_CACHE_DIR": str(tmp_path / "c")},
    )
    out = done.stdout.decode("utf-8")  # strict: no surrogate was printed as it is
    assert done.returncode == EXIT_FAILED, out + done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out + done.stderr.decode("utf-8", "replace")
    assert "\x1b" not in out
    assert not [line for line in out.splitlines() if line.startswith("lessons/dl.md")]
    assert "odd.md:8: [cpu] ValueError: bad \\udc80 here" in out.splitlines()
    forged = "ValueError: ok\\nlessons/dl.md:1: [cpu] forged failure\\x1b[31m"
    assert f"odd.md:12: [cpu] {forged}" in out.splitlines()
    assert f"::error file=odd.md,line=12,title=harness [cpu]::{forged}" in out.splitlines()
    raw = (tmp_path / "out/results.json").read_text(encoding="utf-8")
    assert "\\ud" not in raw.replace("\\\\ud", "")  # no lone surrogate, escaped or not
    (lesson,) = json.loads(raw)["lessons"]
    assert lesson["blocks"][0]["results"]["cpu"]["stdout"] == "a\\udc80b\n"
    html = (tmp_path / "out/report/odd.html").read_text(encoding="utf-8")
    assert "a\\udc80b" in html and html.rstrip().endswith("</html>")
