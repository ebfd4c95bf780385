"""The project configuration: ``[tool.harness]`` in ``pyproject.toml`` or ``harness.toml``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import harness.cli.check as check_command
from harness import cli
from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, main
from harness.config import (
    NONE,
    ConfigError,
    Finder,
    Setup,
    choose,
    default_devices,
    key_lines,
    settings_for,
)
from harness.run import runner
from tests.paths import ROOT, SAMPLES

CONFIG = SAMPLES / "config"
NOTES = CONFIG / "docs" / "notes"
BAD = CONFIG / "bad" / "lesson.md"
LESSON = "# A lesson\n\n```python\nx = torch.ones(2, 3)  # [2, 3]\n```\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A lesson repository: a ``.git`` folder marks its root."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    return tmp_path / "repo"


# finding it ---------------------------------------------------------------------------------


def test_no_configuration_gives_the_defaults(repo: Path) -> None:
    lesson = write(repo / "lessons" / "a.md", LESSON)
    write(repo / "pyproject.toml", '[project]\nname = "harness-lessons"\n')
    assert settings_for(lesson) == NONE


def test_the_nearest_configuration_up_the_tree_applies(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.harness]\nsetup = "import torch"\ndevices = "cpu"\n')
    lesson = write(repo / "docs" / "notes" / "a.md", LESSON)
    found = settings_for(lesson)
    assert found.config is not None and found.config.endswith("repo/pyproject.toml")
    assert found.setup is not None and found.setup.code == "import torch"
    assert (found.setup.line, found.setup.table) == (2, "[tool.harness]")
    assert found.devices == ("cpu",) and found.time_limit is None
    nearer = write(repo / "docs" / "harness.toml", "time-limit = 30\n")  # the nearer one wins
    found = settings_for(lesson)
    assert found.config == str(nearer) and found.time_limit == 30.0  # outside: absolute
    assert found.setup is None  # files are not merged: the nearest says everything


def test_a_pyproject_without_the_table_is_passed_over(repo: Path) -> None:
    write(repo / "harness.toml", 'setup = "import torch"\n')
    write(repo / "docs" / "pyproject.toml", "[tool.ruff]\nline-length = 100  # harness\n")
    found = settings_for(write(repo / "docs" / "a.md", LESSON))
    assert found.config is not None and found.config.endswith("repo/harness.toml")


def test_harness_toml_wins_over_pyproject_in_one_folder(repo: Path) -> None:
    write(repo / "pyproject.toml", "[tool.harness]\ntime-limit = 10\n")
    write(repo / "harness.toml", "time-limit = 20\n")
    assert settings_for(write(repo / "a.md", LESSON)).time_limit == 20.0


def test_the_walk_stops_at_the_repository_root(tmp_path: Path, repo: Path) -> None:
    write(tmp_path / "harness.toml", 'setup = "import os"\n')  # above the repository
    assert settings_for(write(repo / "docs" / "a.md", LESSON)) == NONE
    (repo / ".git").rmdir()
    write(repo / ".git", "gitdir: ../elsewhere\n")  # a worktree or submodule: a file
    assert settings_for(repo / "docs" / "a.md") == NONE
    (repo / ".git").unlink()
    assert settings_for(repo / "docs" / "a.md").setup is not None


def test_a_linked_lesson_takes_the_configuration_of_the_link(tmp_path: Path, repo: Path) -> None:
    target = write(tmp_path / "elsewhere" / "a.md", LESSON)
    write(repo / "harness.toml", 'setup = "import torch"\n')
    (repo / "a.md").symlink_to(target)
    assert settings_for(repo / "a.md").setup is not None
    assert settings_for(target) == NONE


def test_a_finder_reads_each_file_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo / "harness.toml", 'setup = "import torch"\n')
    lessons = [write(repo / "docs" / f"{n}.md", LESSON) for n in "abc"]
    read: list[Path] = []
    original = Finder._config

    def counting(self: Finder, path: Path) -> Any:
        if path not in self._read:
            read.append(path)
        return original(self, path)

    monkeypatch.setattr(Finder, "_config", counting)
    finder = Finder()
    assert len({finder.settings(lesson).config for lesson in lessons}) == 1
    assert read == [repo / "harness.toml"]


# overrides and precedence -------------------------------------------------------------------

OVERRIDES = """\
[tool.harness]
setup = "import torch"
devices = ["cpu"]
time-limit = 60

[[tool.harness.overrides]]
paths = ["notes/*.md"]
setup = \"\"\"
import torch
from torch import nn
\"\"\"

[[tool.harness.overrides]]
paths = ["notes/slow-*.md", "**/train.md"]
time-limit = 600
devices = "cpu,cuda"

[[tool.harness.overrides]]
paths = ["plain/**"]
setup = ""
"""


@pytest.mark.parametrize(
    ("lesson", "setup", "time_limit", "devices"),
    [
        ("a.md", "import torch", 60.0, ("cpu",)),
        ("notes/a.md", "import torch\nfrom torch import nn\n", 60.0, ("cpu",)),
        ("notes/slow-1.md", "import torch\nfrom torch import nn\n", 600.0, ("cpu", "cuda")),
        ("notes/deeper/a.md", "import torch", 60.0, ("cpu",)),  # * stays in one folder
        ("x/y/train.md", "import torch", 600.0, ("cpu", "cuda")),  # ** spans folders
        ("train.md", "import torch", 600.0, ("cpu", "cuda")),  # ... or none
        ("plain/a/b.md", None, 60.0, ("cpu",)),  # an empty setup: none
    ],
)
def test_overrides_apply_by_path_relative_to_the_file_and_later_ones_win(
    repo: Path, lesson: str, setup: str | None, time_limit: float, devices: tuple[str, ...]
) -> None:
    write(repo / "pyproject.toml", OVERRIDES)
    found = settings_for(write(repo / lesson, LESSON))
    assert (found.setup.code if found.setup else None) == setup
    assert (found.time_limit, found.devices) == (time_limit, devices)


def test_an_override_setup_names_its_own_table_and_lines(repo: Path) -> None:
    write(repo / "pyproject.toml", OVERRIDES)
    setup = settings_for(write(repo / "notes" / "a.md", LESSON)).setup
    assert setup is not None
    assert (setup.table, setup.line, setup.multiline) == ("[[tool.harness.overrides]] #1", 9, True)
    assert setup.where(10).endswith("pyproject.toml:10 [[tool.harness.overrides]] #1")
    assert Setup.from_json(json.loads(json.dumps(setup.to_json()))) == setup
    assert Setup.from_json(None) is None and Setup.from_json({"code": 3}) is None


def test_the_command_line_wins_over_the_file_which_wins_over_the_defaults() -> None:
    assert choose(30.0, 60.0, 300.0) == 30.0
    assert choose(None, 60.0, 300.0) == 60.0
    assert choose(None, None, 300.0) == 300.0
    assert choose(0, 5, 7) == 0  # a value given is taken, even a falsy one
    args = cli._parser().parse_args(["check"])  # not given: told apart from any value
    assert (args.devices, args.time_limit, args.memory_limit) == (None, None, None)


def test_harness_devices_is_the_default_below_the_command_line_and_the_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HARNESS_DEVICES", raising=False)
    assert default_devices() == ("all",)
    monkeypatch.setenv("HARNESS_DEVICES", " meta, cpu ")
    assert default_devices() == ("meta", "cpu")
    lesson = write(repo / "a.md", LESSON.replace("x =", "import torch\nx ="))

    def devices_run(*options: str) -> list[str]:
        main(["check", str(lesson), "--no-progress", "--no-cache", *options])
        first = capsys.readouterr().out.splitlines()[0]
        return [word for word in first.split() if word.startswith("[")]

    assert devices_run() == ["[meta]", "[cpu]"]
    assert devices_run("--devices", "cpu") == ["[cpu]"]
    write(repo / "harness.toml", 'devices = "meta"\n')
    assert devices_run() == ["[meta]"]
    monkeypatch.setenv("HARNESS_DEVICES", "gpu")  # refused before anything runs, exit 2
    with pytest.raises(SystemExit) as refused:
        main(["check", str(lesson), "--no-progress"])
    assert refused.value.code == 2
    assert "HARNESS_DEVICES='gpu': unknown device 'gpu': expected a comma-separated list" in (
        capsys.readouterr().err
    )


# bad configurations: one line at the right line ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.harness]\ntime_limit = 30\n",
            "pyproject.toml:2: [tool.harness] 'time_limit': unknown key: did you mean "
            "'time-limit'? (known: setup, devices, time-limit, memory-limit, overrides)",
        ),
        (
            "[tool.harness]\nsetup = 'import torch'\ntime-limit = 0\n",
            "pyproject.toml:3: [tool.harness] time-limit: expected seconds above 0 and at most "
            "604800 (a week), got '0'",
        ),
        ("[tool.harness]\ntime-limit = nan\n", "time-limit: expected seconds above 0"),
        ("[tool.harness]\ntime-limit = inf\n", "got 'inf'"),
        ("[tool.harness]\ntime-limit = 604801\n", "got '604801'"),
        (
            "[tool.harness]\ntime-limit = '30'\n",
            "time-limit: expected seconds (a number), got '30'",
        ),
        ("[tool.harness]\ntime-limit = true\n", "expected seconds (a number), got true"),
        (
            '[tool.harness]\ndevices = "gpu"\n',
            "pyproject.toml:2: [tool.harness] devices: unknown device 'gpu': expected a "
            "comma-separated list of cpu, cuda, mps, xpu, meta, all, got 'gpu'",
        ),
        ('[tool.harness]\ndevices = ["cpu", 3]\n', "devices: expected a comma-separated string"),
        ('[tool.harness]\ndevices = ""\n', "devices: expected a comma-separated list"),
        ("[tool.harness]\nmemory-limit = -1\n", "memory-limit: expected whole megabytes from 0"),
        ("[tool.harness]\nmemory-limit = 1.5\n", "expected whole megabytes (an integer), got 1.5"),
        ("[tool.harness]\nsetup = 3\n", ":2: [tool.harness] setup: expected Python code (a str"),
        (
            '[tool.harness]\nsetup = """\nimport torch\nimport (\n"""\n',
            "pyproject.toml:4: [tool.harness] setup: expected Python code, got a SyntaxError",
        ),
        ("[tool]\nharness = 3\n", "pyproject.toml:2: [tool.harness]: expected a table, got 3"),
        (
            "[tool.harness]\noverrides = 3\n",
            ":2: [tool.harness] overrides: expected an array of tables ([[tool.harness.overrides]]",
        ),
        (
            "[tool.harness]\n\n[[tool.harness.overrides]]\nsetup = 'import torch'\n",
            "pyproject.toml:3: [[tool.harness.overrides]] #1 paths: expected a list of globs "
            'relative to the configuration\'s folder (paths = ["notes/*.md"]), got nothing',
        ),
        (
            "[tool.harness]\n[[tool.harness.overrides]]\npaths = 'a.md'\n",
            ":3: [[tool.harness.overrides]] #1 paths: expected a list of globs",
        ),
        (
            "[tool.harness]\n[[tool.harness.overrides]]\npaths = ['../x.md']\n",
            "paths: expected a list of globs relative to the configuration's folder (inside it)",
        ),
        (
            "[tool.harness]\n[[tool.harness.overrides]]\npaths = ['a.md']\ntimelimit = 3\n",
            ":4: [[tool.harness.overrides]] #1 'timelimit': unknown key: did you mean "
            "'time-limit'? (known: paths, setup",
        ),
        ("[tool.harness]\nsetup = 'import torch\n", "pyproject.toml:2: not valid TOML: "),
        ("[tool.harness]\nx = [\n", "pyproject.toml:2: not valid TOML: "),
    ],
)
def test_a_bad_configuration_is_one_line_at_its_line(
    repo: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(repo)
    write(repo / "pyproject.toml", text)
    with pytest.raises(ConfigError) as raised:
        settings_for(write(repo / "a.md", LESSON))
    assert len(str(raised.value).splitlines()) == 1
    assert message in str(raised.value)
    assert str(raised.value).startswith("pyproject.toml:")
    error = raised.value  # its parts, for annotations: nothing is parsed back from the text
    assert str(error) == f"{error.path}:{error.line}: {error.reason}"
    assert (error.path, type(error.line)) == ("pyproject.toml", int)


def test_harness_toml_keys_and_unreadable_files(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    lesson = write(repo / "a.md", LESSON)
    write(repo / "harness.toml", "[tool.harness]\nsetup = 'import torch'\n")
    with pytest.raises(ConfigError, match=r"^harness.toml:1: 'tool': unknown key: \(known: "):
        settings_for(lesson)
    write(repo / "harness.toml", "[[overrides]]\npaths = ['a.md']\ndevices = 'tpu'\n")
    with pytest.raises(ConfigError, match=r"^harness.toml:3: \[\[overrides\]\] #1 devices: "):
        settings_for(lesson)
    (repo / "harness.toml").write_bytes(b"setup = 'import torch'\nx = '\xff'\n")
    with pytest.raises(ConfigError, match=r"^harness.toml:2: not UTF-8"):
        settings_for(lesson)


def test_a_broken_pyproject_that_does_not_mention_harness_is_not_ours(repo: Path) -> None:
    write(repo / "pyproject.toml", "[project\nname = 'x'\n")
    assert settings_for(write(repo / "a.md", LESSON)) == NONE


def test_key_lines_skip_multiline_strings_and_read_dotted_keys() -> None:
    text = (
        "[tool]\nharness.setup = '''\n[not.a.table]\ntime-limit = 3\n'''\n"
        '[tool."harness"]\ndevices = "cpu"\n'
    )
    lines = key_lines(text)
    assert lines["tool.harness.setup"] == (3, True)
    assert "not.a.table" not in lines and "tool.time-limit" not in lines
    assert lines["tool.harness.devices"] == (7, False)


# applied: harness check and the pytest plugin -----------------------------------------------


def check(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", "--no-progress", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_samples_run_with_their_configuration(tmp_path: Path) -> None:
    """The docs sample never imports torch: its configuration does. The override's setup
    supplies nn to notes/; a wrong claim still fails at its line; the JSON names the file."""
    out = tmp_path / "r.json"
    code, stdout, stderr = check(str(CONFIG / "docs"), "--no-cache", "--json", str(out))
    assert code == EXIT_FAILED, stdout + stderr
    failures = [line for line in stdout.splitlines() if ": [cpu] " in line]
    assert failures == [
        f"{CONFIG / 'docs/notes/nn-wrong.md'}:12: [cpu] y: expected [3, 5], found [3, 2]: "
        "dim 1 is 5, found 2"
    ]
    assert stdout.splitlines()[-1].startswith("5 passed, 1 failed (blocks); claims: 5 passed")
    document = json.loads(out.read_text())
    assert document["environment"]["devices"] == ["cpu"]  # the file's devices
    configs = {lesson["config"] for lesson in document["lessons"]}
    assert configs == {os.path.relpath(CONFIG / "docs" / "pyproject.toml", ROOT)}


def test_a_failing_setup_fails_the_first_block_at_the_configuration_line() -> None:
    code, stdout, _ = check(str(CONFIG / "broken-setup"), "--no-cache")
    assert code == EXIT_FAILED
    lesson = CONFIG / "broken-setup" / "lesson.md"
    toml = os.path.relpath(CONFIG / "broken-setup" / "harness.toml", ROOT)
    (failure,) = [line for line in stdout.splitlines() if ": [cpu] " in line]
    assert failure == (
        f"{lesson}:3: [cpu] RuntimeError: setup ({toml}:3) failed: the docs build is missing"
    )


def test_a_bad_configuration_is_unusable_input_and_others_still_run() -> None:
    bad = CONFIG / "bad" / "lesson.md"
    good = CONFIG / "docs" / "notes" / "nn-linear.md"
    code, stdout, stderr = check(str(bad), str(good), "--no-cache")
    assert code == EXIT_UNUSABLE
    toml = os.path.relpath(CONFIG / "bad" / "pyproject.toml", ROOT)
    assert stderr == (
        f"{toml}:3: [tool.harness] 'time_limit': unknown key: did you mean 'time-limit'? "
        "(known: setup, devices, time-limit, memory-limit, overrides)\n"
    )
    assert "1 passed, 0 failed (blocks)" in stdout  # the good lesson was checked


def test_options_given_win_over_the_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "harness.toml", 'setup = "import torch"\ndevices = "meta"\ntime-limit = 99\n')
    lesson = write(repo / "a.md", LESSON)
    seen: list[tuple[list[str], float, Setup | None]] = []
    real = runner.check_lesson

    def spy(lesson: Any, devices: Any, **kwargs: Any) -> Any:
        seen.append((list(devices), kwargs["time_limit"], kwargs["setup"]))
        return real(lesson, devices, **kwargs)

    monkeypatch.setattr(check_command, "check_lesson", spy)
    assert main(["check", str(lesson), "--no-cache", "--no-progress"]) == EXIT_OK
    args = ["--devices", "cpu", "--time-limit", "50"]
    assert main(["check", str(lesson), "--no-cache", "--no-progress", *args]) == EXIT_OK
    (meta, _, setup), (cpu, limit, _) = seen
    assert (meta, seen[0][1], cpu, limit) == (["meta"], 99.0, ["cpu"], 50.0)
    assert setup is not None and setup.code == "import torch"
    assert "1 passed, 0 failed (blocks)" in capsys.readouterr().out


def test_isolated_blocks_get_the_setup_and_the_cache_key_covers_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(repo.parent / "cache"))
    config = write(repo / "harness.toml", 'setup = "import torch"\ndevices = "cpu"\n')
    lesson = write(repo / "a.md", LESSON + "\n```python\ny = torch.zeros(4)  # [4]\n```\n")
    code, stdout, _ = check(str(lesson), "--isolated")
    assert code == EXIT_OK and "2 blocks ran, 0 from the cache" in stdout, stdout
    code, stdout, _ = check(str(lesson), "--isolated")
    assert code == EXIT_OK and "0 blocks ran, 2 from the cache" in stdout, stdout
    config.write_text('setup = "import torch as t"\ndevices = "cpu"\n')  # torch: undefined
    code, stdout, _ = check(str(lesson), "--isolated")
    assert code == EXIT_FAILED and "2 blocks ran, 0 from the cache" in stdout, stdout
    assert "NameError: name 'torch' is not defined" in stdout


def test_the_pytest_plugin_applies_the_configuration(tmp_path: Path) -> None:
    """Files named (pytest's norecursedirs keeps it out of tests/samples/ folders)."""
    out = tmp_path / "r.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"),
            *(str(NOTES / "nn-linear.md"), str(NOTES / "nn-wrong.md")),
            *("--harness-json", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "1 failed, 2 passed" in done.stdout, done.stdout + done.stderr
    assert "nn-wrong.md:12: [cpu] y: expected [3, 5], found [3, 2]" in done.stdout
    configs = {lesson["config"] for lesson in json.loads(out.read_text())["lessons"]}
    assert configs == {os.path.relpath(CONFIG / "docs" / "pyproject.toml", ROOT)}
    bad = subprocess.run(
        [*(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"), str(BAD)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert bad.returncode != 0 and "[tool.harness] 'time_limit': unknown key" in bad.stdout


def _run(source: str, setup: Setup, isolated: bool = False) -> dict[int, Any]:
    from harness.claims import find_claims
    from harness.lesson import parse_lesson
    from harness.run.execute import run_lesson

    lesson = parse_lesson(source, "a.md")
    found: dict[int, Any] = {}
    run_lesson(
        lesson,
        find_claims(lesson),
        "cpu",
        lambda fence, result, tallies: found.setdefault(fence.line, result),
        isolated=isolated,
        setup=setup,
    )
    return found


def test_the_setup_runs_unseen_and_its_failure_names_its_line() -> None:
    two = LESSON + "\n```python\ny = torch.zeros(4)  # [4]\n```\n"
    quiet = Setup("import torch\nprint('never shown')", "[tool.harness]", "pyproject.toml", 7)
    for isolated in (False, True):
        results = _run(two, quiet, isolated)
        assert [r.status for r in results.values()] == ["passed", "passed"]
        assert all("never shown" not in r.stdout for r in results.values())
    raising = Setup("import torch\n\nraise OSError('no build')\n", "", "harness.toml", 2, True)
    for isolated in (False, True):
        results = _run(two, raising, isolated)
        first, second = results.values()
        assert first.status == "failed" and first.error is not None
        assert first.error.line == 3  # the first block's fence
        assert first.error.type == "OSError"
        assert first.error.message == "setup (harness.toml:4) failed: no build"
        assert "harness.toml" in first.error.traceback
        assert second.status == ("failed" if isolated else "passed")  # isolated: each block
    broken = Setup("import (", "[tool.harness]", "pyproject.toml", 5, True)
    first = next(iter(_run(LESSON, broken).values()))
    assert first.error is not None and first.error.type == "SyntaxError"
    assert first.error.message.startswith("setup (pyproject.toml:5 [tool.harness]) failed: ")
