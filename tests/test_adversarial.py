"""Adversarial sample lessons (tests/samples/adversarial/): each is run by `harness check` as a
new user would run it, in a scratch folder of its own, and must give its documented exit code
and message, with no harness traceback, no hang past its limit, and nothing outside the
scratch folder's own outputs changed.

Each sample carries its expectations in an HTML comment (invisible where the lesson renders,
and not a `harness:` directive):

    <!-- adversarial
    args: --time-limit 2          (extra arguments to `harness check`; optional)
    exit: 1                       (the exit code)
    expect: :9: .*TimeLimit       (a regex, multiline, the output must match; repeatable)
    reject: passed                (a regex the output must not match; optional, repeatable)
    env: TMPDIR={scratch}/tmp     (an environment variable; {scratch}: the run's folder)
    timeout: 60                   (seconds the whole command may take; default 120)
    -->
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.paths import SAMPLES

FOLDER = SAMPLES / "adversarial"
SPEC = re.compile(r"<!-- adversarial\n(.*?)-->", re.DOTALL)


@dataclass
class Case:
    path: Path
    args: list[str] = field(default_factory=list)
    exit: int = 0
    expect: list[str] = field(default_factory=list)
    reject: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0


def read_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    found = SPEC.search(text)
    assert found, f"{path}: no <!-- adversarial ... --> comment"
    case = Case(path)
    for line in found.group(1).splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "args":
            case.args = shlex.split(value)
        elif key == "exit":
            case.exit = int(value)
        elif key == "expect":
            case.expect.append(value)
        elif key == "reject":
            case.reject.append(value)
        elif key == "env":
            name, _, setting = value.partition("=")
            case.env[name.strip()] = setting.strip()
        elif key == "timeout":
            case.timeout = float(value)
        elif key:
            raise AssertionError(f"{path}: unknown key {key!r} in the adversarial comment")
    return case


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the cache, by relative path, with its content."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in (".harness-cache", "tmp", "out") or not path.is_file():
            continue
        files[str(relative)] = path.read_bytes()
    return files


CASES = sorted(FOLDER.glob("*.md")) if FOLDER.is_dir() else []


@pytest.mark.parametrize("sample", CASES, ids=[p.name for p in CASES])
def test_an_adversarial_sample_gives_its_documented_outcome(sample: Path, tmp_path: Path) -> None:
    case = read_case(sample)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "tmp").mkdir()
    (scratch / "out").mkdir()
    lesson = scratch / sample.name
    shutil.copyfile(sample, lesson)
    for helper in FOLDER.glob(f"{sample.stem}.*.py"):  # modules a sample imports
        shutil.copyfile(helper, scratch / helper.name.removeprefix(f"{sample.stem}."))
    outside = tmp_path / "outside.txt"
    outside.write_text("must not change\n")
    before = snapshot(scratch)
    env = {**os.environ, "HARNESS_CACHE_DIR": str(scratch / ".harness-cache")}
    env.pop("GITHUB_ACTIONS", None)
    env.update({k: v.format(scratch=scratch) for k, v in case.env.items()})
    args = [a.format(scratch=scratch) for a in case.args]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", "check", lesson.name, "--no-progress", *args],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            errors="backslashreplace",
            timeout=case.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{sample.name}: still running after {case.timeout:g} s: {error.output!r}")
    output = done.stdout + done.stderr
    shown = f"{sample.name} (exit {done.returncode}):\n{output}"
    assert "Traceback" not in output, shown
    assert done.returncode == case.exit, shown
    for pattern in case.expect:
        assert re.search(pattern, output, re.MULTILINE), f"expected /{pattern}/ in {shown}"
    for pattern in case.reject:
        assert not re.search(pattern, output, re.MULTILINE), (
            f"did not expect /{pattern}/ in {shown}"
        )
    assert snapshot(scratch) == before, f"{sample.name} changed files in its folder"
    assert outside.read_text() == "must not change\n"
