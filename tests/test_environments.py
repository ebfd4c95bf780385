"""Environments (issue 13, items 13 and 14): blocks that need what this machine lacks (a
package, cuda, the network) get the status ``needs``; after a block's time limit, a new
worker runs the rest of the lesson from the next block's snippet prelude."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from harness.lesson import read_lesson
from harness.report import write_report
from harness.results import LessonResult
from harness.run.needs import requirement
from harness.run.runner import check_lesson
from tests.lessons import harness_check
from tests.paths import ROOT

SAMPLES = Path("tests") / "samples" / "environments"


def _check(name: str) -> LessonResult:
    return check_lesson(read_lesson(ROOT / SAMPLES / name), ["cpu"])


def _statuses(result: LessonResult) -> dict[int, str]:
    return {line: per["cpu"].status for line, per in result.blocks.items()}


def _why(result: LessonResult, line: int) -> tuple[str, str]:
    verdict = result.verdicts[line]["cpu"]
    return verdict.verdict, verdict.message


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    """``error`` as Python leaves it when raised (``from cause``)."""
    try:
        raise error from cause
    except BaseException as caught:  # any exception a lesson raises
        return caught


MNIST = (
    "Error downloading train-images-idx3-ubyte.gz:\nTried https://ossci-datasets.s3.amazonaws"
    ".com/mnist/, got:\n<urlopen error [Errno -3] Temporary failure in name resolution>\n"
)
HUB = "It looks like there is no internet connection and the repo could not be found in the cache"
NOT_FOUND = urllib.error.HTTPError("https://example.org/x.pth", 404, "Not Found", None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "need"),
    [
        (ModuleNotFoundError(name="vit_pytorch"), "package vit_pytorch"),
        (ModuleNotFoundError(name="vit_pytorch.vit"), "package vit_pytorch"),
        (_raised(ImportError("needs"), ModuleNotFoundError(name="einops_x")), "package einops_x"),
        (ModuleNotFoundError(name="torch.nn.functional_typo"), ""),  # torch is installed
        (ImportError("cannot import name 'Linear2' from 'torch.nn'", name="torch.nn"), ""),
        (AssertionError("Torch not compiled with CUDA enabled"), "cuda"),
        (RuntimeError("Found no NVIDIA driver on your system."), "cuda"),
        (RuntimeError("Tried to instantiate dummy base class Event"), "cuda"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), ""),
        (AssertionError("the model is not compiled"), ""),
        (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), "network"),
        (_raised(RuntimeError(HUB), urllib.error.URLError("x")), "network"),
        (RuntimeError(MNIST), "network"),  # torchvision's MNIST after every mirror failed
        (socket.gaierror(-2, "Name or service not known"), "network"),
        (NOT_FOUND, ""),  # the network answered
        (BrokenPipeError(32, "Broken pipe"), ""),  # a pipe, not the network
        (ValueError("expected 3 channels"), ""),
        (NameError("name 'model' is not defined"), ""),
    ],
)  # fmt: skip
def test_what_an_error_says_the_machine_lacks(error: BaseException, need: str) -> None:
    if need == "cuda" and _cuda():
        need = ""  # on a machine with cuda, these are the lesson's own errors
    assert requirement(error) == need


def test_a_missing_package_is_needs_and_so_is_what_only_it_would_have_defined() -> None:
    result = _check("needs_package.md")
    assert _statuses(result) == {
        8: "skipped",  # the bash fence: not run, and not "not-run"
        12: "passed",
        20: "needs",
        29: "needs",  # NameError for logits: block 20 would have defined it
        35: "passed",
        41: "failed",  # a misspelt name of the lesson's own
    }
    blocks = {line: per["cpu"] for line, per in result.blocks.items()}
    assert blocks[8].reason == "a bash fence: only Python blocks are run"
    assert (blocks[20].need, blocks[20].reason) == (
        "package vit_pytorch",
        "needs package vit_pytorch",
    )
    assert (blocks[29].need, blocks[29].reason) == (
        "package vit_pytorch",
        "needs what line 20 needs (package vit_pytorch)",
    )
    assert _why(result, 24) == ("not-run", "its block needs package vit_pytorch")
    assert _why(result, 30) == (
        "not-run",
        "its block needs what line 20 needs (package vit_pytorch)",
    )
    assert _why(result, 36)[0] == "passed"
    path = result.lesson.path
    assert result.failures() == [f"{path}:43: [cpu] NameError: name 'poold' is not defined"]
    assert result.needs_lines() == [
        f"{path}:21: [info] [cpu] needs package vit_pytorch: ModuleNotFoundError: No module "
        "named 'vit_pytorch'",
        f"{path}:30: [info] [cpu] needs what line 20 needs (package vit_pytorch): NameError: "
        "name 'logits' is not defined",
    ]
    assert result.failures(strict=True)[:2] == [
        f"{path}:21: [cpu] needs package vit_pytorch: ModuleNotFoundError: No module named "
        "'vit_pytorch'",
        f"{path}:30: [cpu] needs what line 20 needs (package vit_pytorch): NameError: name "
        "'logits' is not defined",
    ]
    assert result.counts() == {"skipped": 1, "passed": 2, "needs": 2, "failed": 1}
    json_blocks = {b["line"]: b["results"]["cpu"] for b in result.to_json()["blocks"]}
    assert (json_blocks[20]["status"], json_blocks[20]["need"]) == ("needs", "package vit_pytorch")
    assert json_blocks[8]["status"] == "skipped"


@pytest.mark.skipif(_cuda(), reason="this machine has cuda: the blocks run")
def test_cuda_only_calls_need_cuda_on_a_machine_without_it() -> None:
    result = _check("needs_cuda.md")
    assert _statuses(result) == {6: "passed", 14: "needs", 19: "needs", 23: "passed"}
    assert {result.blocks[line]["cpu"].need for line in (14, 19)} == {"cuda"}
    assert _why(result, 16) == ("not-run", "its block needs cuda")
    assert result.failures() == []


def test_errors_that_only_look_like_a_missing_environment_are_failures() -> None:
    result = _check("needs_not.md")
    assert _statuses(result) == {6: "failed", 11: "failed", 16: "passed", 20: "failed"}


def test_needs_are_said_not_failed_and_strict_fails_them(tmp_path: Path) -> None:
    lesson = str(SAMPLES / "needs_network.md")
    done = harness_check(
        lesson, "--devices", "cpu", "--no-progress", "-v", "--json", str(tmp_path / "r.json")
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line for line in lines if "needs network" in line] == [
        f"{lesson}:17: [info] [cpu] needs network: URLError: <urlopen error [Errno 111] "
        "Connection refused>",
        f"{lesson}:25: [info] [cpu] needs network: URLError: <urlopen error [Errno 111] "
        "Connection refused>",
    ]
    assert lines[-1].startswith("2 passed, 0 failed, 2 needs (blocks); claims: 1 passed, 0 failed")
    document = json.loads((tmp_path / "r.json").read_text())
    statuses = {b["line"]: b["results"]["cpu"]["status"] for b in document["lessons"][0]["blocks"]}
    assert statuses == {6: "passed", 15: "needs", 22: "needs", 29: "passed"}
    strict = harness_check(lesson, "--devices", "cpu", "--no-progress", "--strict")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert f"{lesson}:17: [cpu] needs network: URLError: " in strict.stdout
    assert "[info] [cpu] needs" not in strict.stdout
    written = write_report([document], tmp_path / "report")
    index = written[0].read_text()
    assert "2 needs" in index and 'class="has-failures"' not in index
    page = next(p for p in written[1:]).read_text()
    assert "needs network" in page


def test_a_needs_item_is_skipped_with_its_reason_and_fails_under_strict(tmp_path: Path) -> None:
    lesson = tmp_path / "needs_network.md"
    lesson.write_text((ROOT / SAMPLES / "needs_network.md").read_text())

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist"]
        return subprocess.run(
            [*command, str(lesson), "--devices", "cpu", "-rs", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    plain = pytest_run()
    assert plain.returncode == 0, plain.stdout
    assert "2 passed, 2 skipped" in plain.stdout
    assert "needs network: URLError: <urlopen error [Errno 111] Connection refused>" in plain.stdout
    strict = pytest_run("--harness-strict")
    assert strict.returncode == 1, strict.stdout
    assert "2 failed, 2 passed" in strict.stdout
    assert "needs_network.md:17: [cpu] needs network: URLError:" in strict.stdout


def test_after_a_time_limit_the_rest_of_the_lesson_runs_in_a_new_worker() -> None:
    result = _check("time_limit_resume.md")
    assert _statuses(result) == {
        6: "passed",
        24: "failed",
        38: "passed",
        42: "not-run",
        46: "failed",
    }
    blocks = {line: per["cpu"] for line, per in result.blocks.items()}
    error = blocks[24].error
    assert error is not None and (error.type, error.line) == ("TimeLimit", 24)
    assert error.message == (
        "the block ran longer than 3 s (the blocks after it ran in a new worker, from line 38)"
    )
    assert [blocks[line].resumed_after for line in (6, 24, 38, 42, 46)] == [None, None, 24, 24, 24]
    assert blocks[38].reason == (
        "ran in a new worker, from its snippet's prelude, after the block at line 24 ran past "
        "its time limit"
    )
    assert blocks[42].reason == (  # steps is assigned by the loop that ran too long
        "steps would have been defined by the block at line 24, which ran past its time limit "
        "(NameError at line 43)"
    )
    assert _why(result, 39)[0] == "passed"  # describe(), defined before, called after
    assert _why(result, 11)[0] == "passed"
    assert _why(result, 47) == (
        "failed",
        "expected [3, 8], found [3, 7]: dim 1 is 8, found 7",
    )
    assert _why(result, 15) == (
        "not-run",
        "never called: never_used (line 14) is not called by any block that ran",
    )
    assert _why(result, 28) == (
        "not-run",
        "never called by a block that finished: predict (line 27); its block ran past its time "
        "limit, and the checks made in it were lost with it",
    )
    path = result.lesson.path
    assert result.failures() == [
        f"{path}:24: [cpu] TimeLimit: {error.message}",
        f"{path}:47: [cpu] w: expected [3, 8], found [3, 7]: dim 1 is 8, found 7",
    ]


def test_needs_are_cached_except_the_network_which_may_come_back(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    args = ("--devices", "cpu", "--no-progress")
    package = str(SAMPLES / "needs_package.md")
    network = str(SAMPLES / "needs_network.md")
    harness_check(package, network, *args, HARNESS_CACHE_DIR=cache)
    again = harness_check(package, network, *args, HARNESS_CACHE_DIR=cache)
    assert "damaged" not in again.stderr, again.stderr
    assert f"{package}: 0 blocks ran, 5 from the cache" in again.stdout  # key: not installed
    assert f"{network}: 4 blocks ran, 0 from the cache" in again.stdout
    assert again.stdout.splitlines()[-1].startswith("4 passed, 1 failed, 4 needs, 1 skipped")
