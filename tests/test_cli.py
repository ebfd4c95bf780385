"""The command authors run: output lines, closing line, exit codes, JSON results."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from harness.claims import Claim
from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, _parser, main
from harness.cli.terminal import Terminal, rule, wants_colour
from harness.lesson import parse_lesson
from harness.results import BlockResult, ClaimResult, ErrorInfo, LessonResult
from harness.static.lint import Note
from tests.lessons import harness_cli as run
from tests.paths import LESSON, ROOT


def test_check_the_lesson_writes_json(dl_checked: Path) -> None:
    """``harness check lessons/dl.md --json`` (the session's one run: exit 0 asserted there)."""
    stdout = (dl_checked / "stdout").read_text(encoding="utf-8")
    assert stdout.splitlines()[-1].startswith("17 passed, 0 failed, 1 skipped (blocks)")
    document = json.loads((dl_checked / "results.json").read_text())
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


def test_a_failure_prints_its_line_and_exits_1(dl_wrong_checked: Path) -> None:
    """``harness check lessons`` on lessons/dl.md with the claim at line 111 made wrong and
    its training block skipped (the session's one run of it)."""
    assert (dl_wrong_checked / "exit").read_text() == str(EXIT_FAILED)
    lines = (dl_wrong_checked / "stdout").read_text(encoding="utf-8").splitlines()
    lesson = "lessons/dl.md"
    assert lines[0].startswith(f"{lesson} [cpu] s.")  # its progress line: the bash fence, ...
    assert lines[1] == rule(lesson)  # the head of its failures
    assert lines[2] == (
        f"{lesson}:111: [cpu] output.shape: expected [1, 4], found [1, 3]: dim 1 is 4, found 3"
    )
    assert lines[-1].startswith("15 passed, 1 failed, 2 skipped (blocks)")


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
    done = run("check", "lessons/dl.md", "--isolated", "-v", "--json", str(tmp_path / "r.json"))
    assert done.returncode == EXIT_OK, done.stdout
    assert "lessons/dl.md:703: [info] uses nn from line 609, torch from line 681" in done.stdout
    (lesson,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    needs = {b["line"]: b["needs"] for b in lesson["blocks"] if b["needs"]}
    assert sorted(needs) == [92, 158, 343, 393, 461, 509, 566, 680, 703]
    assert needs[158] == [{"name": "MLP", "line": 93}]


def test_standalone_fails_a_block_that_borrows_a_name(dl_cache: Path) -> None:
    """A lint over what the blocks define and use: what the blocks give comes from the cache of
    the session's reader-order run of the lesson (its 17 blocks are not run again)."""
    strict = run("check", "lessons/dl.md", "--standalone", HARNESS_CACHE_DIR=str(dl_cache))
    assert strict.returncode == EXIT_FAILED
    assert "lessons/dl.md:158: uses MLP from line 93" in strict.stdout
    assert "lessons/dl.md: 0 blocks ran, 17 from the cache" in strict.stdout.splitlines()


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


def test_default_path_is_lessons_folder(dl_cache: Path) -> None:
    """``harness check`` with no path checks lessons/ (here answered from a copy of the cache
    of the session's run of lessons/dl.md: what is checked is the point, not the run)."""
    assert LESSON.parent.name == "lessons"
    done = run("check", "--json", "/dev/null", HARNESS_CACHE_DIR=str(dl_cache))
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert "lessons/dl.md: 0 blocks ran, 17 from the cache" in done.stdout.splitlines()


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
    lines = [line for line in done.stdout.splitlines() if ": [cpu] " in line]
    assert lines == [  # sorted by path, whatever order the lessons were given or ran in
        f"{samples}/exits.md:5: [cpu] WorkerCrash: the process running the block exited "
        "with code 3",
        f"{samples}/hangs_and_exits.md:11: [cpu] TimeLimit: the block ran longer than 4 s "
        "(the blocks after it ran in a new worker, from line 18)",
        f"{samples}/hangs_and_exits.md:18: [cpu] WorkerCrash: the process running the block "
        "exited with code 3",  # resumed after the time limit: a crash ends the run
    ]
    closing = done.stdout.splitlines()[-1]
    assert closing.startswith("3 passed, 3 failed, 1 not-run (blocks); claims: 1 passed")
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
    assert [str(problem) for problem in problems] == [
        f"{folder}/bad.md: is a binary file, not markdown"
    ]
    assert (problems[0].path, problems[0].line) == (f"{folder}/bad.md", None)
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
    bad = "ValueError: bad \\udc80 here"
    assert f"::error file=odd.md,line=8,title=harness [cpu]::{bad}" in out.splitlines()
    forged = "ValueError: ok\\nlessons/dl.md:1: [cpu] forged failure\\x1b[31m"
    assert f"::error file=odd.md,line=12,title=harness [cpu]::{forged}" in out.splitlines()
    assert f"odd.md:12: [cpu] {forged}" not in out.splitlines()  # said once, as its annotation
    raw = (tmp_path / "out/results.json").read_text(encoding="utf-8")
    assert "\\ud" not in raw.replace("\\\\ud", "")  # no lone surrogate, escaped or not
    (lesson,) = json.loads(raw)["lessons"]
    assert lesson["blocks"][0]["results"]["cpu"]["stdout"] == "a\\udc80b\n"
    html = (tmp_path / "out/report/odd.html").read_text(encoding="utf-8")
    assert "a\\udc80b" in html and html.rstrip().endswith("</html>")


# ------------------------------------------------------ the terminal, in pytest's manner (15)


def _lesson_result(path: str, devices: list[str]) -> LessonResult:
    """Two failing blocks and a failing claim, on each of ``devices``, recorded out of order."""
    source = "# T\n\n```python\nx = 1  # [3]\n```\n\n```python\nboom()\n```\n\n```bash\nls\n```\n"
    lesson = parse_lesson(source, path)
    claim = Claim(4, "[3]", "shape", "x", 3)
    result = LessonResult(lesson, [claim], devices)
    for device in reversed(devices):
        result.blocks.setdefault(7, {})[device] = BlockResult(
            "failed", error=ErrorInfo("NameError", "name 'boom' is not defined", 8)
        )
        result.blocks.setdefault(3, {})[device] = BlockResult("failed")
        result.blocks.setdefault(11, {})[device] = BlockResult("skipped")
        result.verdicts.setdefault(4, {})[device] = ClaimResult(
            "failed", "[3]", "[]", "expected [3], found []"
        )
    result.notes = [Note(8, "device-fragile", "a note"), Note(4, "device-fragile", "another")]
    return result


def _printed(*results: LessonResult, verbosity: int = 0, colour: bool = False) -> list[str]:
    out = io.StringIO()
    terminal = Terminal(out, io.StringIO(), verbosity, colour)
    for result in results:
        terminal.lesson(result, 1.5)
    caches = [f"{result.lesson.path}: 0 blocks ran, 3 from the cache" for result in results]
    terminal.messages(
        list(results), strict=False, standalone=False, coverage=False, cache_lines=caches
    )
    terminal.closing(list(results))
    return out.getvalue().splitlines()


def test_failures_are_grouped_by_lesson_in_line_order_then_the_closing_line() -> None:
    lines = _printed(_lesson_result("a.md", ["meta", "cpu"]), _lesson_result("b.md", ["cpu"]))
    assert lines == [
        "a.md [meta] FFs [cpu] FFs (1.50s)",
        "b.md [cpu] FFs (1.50s)",
        rule("a.md"),
        "a.md:4: [cpu] x: expected [3], found []",
        "a.md:4: [meta] x: expected [3], found []",
        "a.md:8: [cpu] NameError: name 'boom' is not defined",
        "a.md:8: [meta] NameError: name 'boom' is not defined",
        rule("b.md"),
        "b.md:4: [cpu] x: expected [3], found []",
        "b.md:8: [cpu] NameError: name 'boom' is not defined",
        "a.md: 2 [info] lines (-v shows them)",
        "a.md: 0 blocks ran, 3 from the cache",
        "b.md: 2 [info] lines (-v shows them)",
        "b.md: 0 blocks ran, 3 from the cache",
        "0 passed, 6 failed, 3 skipped (blocks); claims: 0 passed, 3 failed, 0 unchecked, "
        "0 not-run",
    ]
    assert rule("a.md") == "_" * 37 + " a.md " + "_" * 37


def test_verbose_shows_each_information_line_in_line_order() -> None:
    lines = _printed(_lesson_result("a.md", ["cpu"]), verbosity=1)
    assert lines[-4:-1] == [
        "a.md:4: [info] device-fragile: another",
        "a.md:8: [info] device-fragile: a note",
        "a.md: 0 blocks ran, 3 from the cache",
    ]
    assert not [line for line in lines if "-v shows them" in line]


def test_quiet_prints_only_the_failures_and_the_closing_line() -> None:
    result = _lesson_result("a.md", ["cpu"])
    result.absent = {"cuda": "cuda is not available on this machine"}
    assert _printed(result, verbosity=-1) == [
        "a.md:4: [cpu] x: expected [3], found []",
        "a.md:8: [cpu] NameError: name 'boom' is not defined",
        "0 passed, 2 failed, 1 skipped (blocks); claims: 0 passed, 1 failed, 0 unchecked, "
        "0 not-run",
    ]


def test_an_absent_device_is_said_in_one_line_with_its_reason() -> None:
    result = _lesson_result("a.md", ["cpu"])
    result.absent = {"cuda": "cuda is not available on this machine"}
    assert "a.md: [cuda] not checked: cuda is not available on this machine" in _printed(result)


def test_colour_marks_failures_red_and_a_clean_run_green() -> None:
    lines = _printed(_lesson_result("a.md", ["cpu"]), colour=True)
    assert lines[0] == "a.md [cpu] \x1b[31mF\x1b[0m\x1b[31mF\x1b[0m\x1b[33ms\x1b[0m (1.50s)"
    assert "\x1b[31ma.md:4: [cpu] x: expected [3], found []\x1b[0m" in lines
    assert lines[-1].startswith("\x1b[31m0 passed, 2 failed") and lines[-1].endswith("\x1b[0m")
    clean = _lesson_result("c.md", ["cpu"])
    clean.blocks = {3: {"cpu": BlockResult("passed")}}
    clean.verdicts = {4: {"cpu": ClaimResult("passed")}}
    clean.notes = []
    assert _printed(clean, colour=True)[-1].startswith("\x1b[32m1 passed, 0 failed")
    assert "\x1b" not in "".join(_printed(clean))


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize(
    ("terminal", "environ", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": ""}, False),  # set but empty: as if not set
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR first
    ],
)
def test_colour_when_a_terminal_unless_no_color_or_forced(
    terminal: bool, environ: dict[str, str], expected: bool
) -> None:
    assert wants_colour(_Stream(terminal), environ) is expected


TWO_WRONG = "# W\n\n```python\nimport torch\nraise ValueError('first')\n```\n"


def test_check_in_colour_quiet_and_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "w.md").write_text(TWO_WRONG + "\n```python\nx = torch.zeros(2)\n```\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["check", "w.md", "--devices", "cpu"]) == EXIT_FAILED
    coloured = capsys.readouterr().out
    assert "\x1b[31mw.md:5: [cpu] ValueError: first\x1b[0m" in coloured.splitlines()
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["check", "w.md", "--devices", "cpu", "-q"]) == EXIT_FAILED
    assert capsys.readouterr().out.splitlines() == [
        "w.md:5: [cpu] ValueError: first",
        "1 passed, 1 failed (blocks); claims: 0 passed, 0 failed, 0 unchecked, 0 not-run",
    ]
    assert main(["check", "w.md", "--devices", "cpu"]) == EXIT_FAILED
    plain = capsys.readouterr().out.splitlines()
    assert "w.md: 1 [info] line (-v shows them)" in plain
    assert main(["check", "w.md", "--devices", "cpu", "-v"]) == EXIT_FAILED
    verbose = capsys.readouterr().out.splitlines()
    assert [line for line in verbose if "[info]" in line] == [
        "w.md:8: [info] uses torch from line 4; the block does not run alone"
    ]
    with pytest.raises(SystemExit) as exited:
        main(["check", "w.md", "-q", "-v"])
    assert exited.value.code == EXIT_UNUSABLE


def test_version() -> None:
    done = run("--version")
    assert (done.returncode, done.stdout) == (EXIT_OK, f"harness {metadata.version('harness')}\n")


def test_an_unknown_device_exits_2_naming_the_known_ones() -> None:
    done = run("check", "lessons/dl.md", "--devices", "gpu")
    assert done.returncode == EXIT_UNUSABLE
    assert done.stdout == ""
    assert done.stderr == (
        "harness check: error: argument --devices: unknown device 'gpu': expected a "
        "comma-separated list of cpu, cuda, mps, xpu, meta, all (see harness check --help)\n"
    )


def test_numpy_is_installed_with_harness() -> None:
    """torch prints "Failed to initialize NumPy" at every start without it (issue 15)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    assert [d for d in dependencies if d.split(">")[0].split("=")[0].strip() == "numpy"]
