"""Shared fixtures. Sample lessons in tests/samples are inputs, never collected as tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.results import LessonResult
from tests import lessons
from tests.lessons import check_text, harness_check, mutate, once, without_training
from tests.paths import LESSON, ROOT

collect_ignore_glob = ["samples/*"]


def pytest_configure(config: pytest.Config) -> None:
    """Torch in every process the tests start (``harness check``, pytest inside pytest, a
    snippet, the tests' own process) gets the threads harness gives its workers: the cores
    shared out between the xdist workers, OpenMP's threads sleeping while they wait. Set
    before any of them imports torch; a value the user set stays. Threads spinning on
    oversubscribed cores made a run of the lesson's blocks take 35 s instead of 14."""
    from harness.run.resources import worker_environment

    threads = worker_environment()
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        if name in threads:
            os.environ.setdefault(name, threads[name])
    # What the tests expect of a check is a cpu run's: a GPU machine adds its own runs to
    # every check that names no device (on an H200, 26 tests failed on doubled counts).
    # Tests of other devices name them (--devices cpu,cuda).
    os.environ["HARNESS_DEVICES"] = "cpu"


@pytest.fixture(autouse=True, scope="session")
def _shared_between_test_processes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``tests.lessons.once`` keeps what it makes in a folder every test process of the
    session sees: in an xdist worker (``workerinput``, as harness's plugin tells one; not
    ``PYTEST_XDIST_WORKER``, which a pytest the tests start inherits), the parent of the
    workers' own temporary folders."""
    base = tmp_path_factory.getbasetemp()
    worker = hasattr(request.config, "workerinput")
    lessons.SHARED = (base.parent if worker else base) / "shared"


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' `harness check` runs (in process and in subprocesses) use a cache of their
    own, never the project's .harness-cache/."""
    previous = os.environ.get("HARNESS_CACHE_DIR")
    os.environ["HARNESS_CACHE_DIR"] = str(tmp_path_factory.mktemp("harness-cache"))
    yield
    if previous is None:
        os.environ.pop("HARNESS_CACHE_DIR", None)
    else:
        os.environ["HARNESS_CACHE_DIR"] = previous


@pytest.fixture(autouse=True, scope="session")
def _pytest_inside_without_hypothesis() -> Iterator[None]:
    """pytest run by a test (on lessons, as their authors run it) starts without the
    hypothesis plugin of this project's own tests: its import was a third of each such
    start (1 s). Set where tests run, after xdist started its workers, which keep it."""
    with pytest.MonkeyPatch.context() as patch:
        addopts = os.environ.get("PYTEST_ADDOPTS", "")
        patch.setenv("PYTEST_ADDOPTS", f"{addopts} -p no:hypothesispytest".strip())
        yield


@pytest.fixture(autouse=True, scope="session")
def _shared_warm_process() -> Iterator[None]:
    """Every worker the tests start, in this process and in the ``harness check`` and
    ``pytest`` processes they start, is forked from one warm process per test process
    (``harness.run.warm.serving``), in the directory and with the environment of the checker
    that asked for it, not a new process importing torch again: about 225 such imports, 6.5
    of the 14 CPU-minutes of a run of the tests on 2 cores. A test of how workers start
    without it removes ``HARNESS_WARM`` (``monkeypatch.delenv``, or from a subprocess's
    environment)."""
    from harness.run import warm

    if os.environ.get("NOWARM"):
        yield
        return
    with warm.serving():
        yield


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test runs in the project's root: lesson paths in results are relative to the
    directory the check ran in (``pytestmark = pytest.mark.usefixtures("at_root")``)."""
    monkeypatch.chdir(ROOT)


@pytest.fixture
def dl_source() -> str:
    return LESSON.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def dl_checked() -> Path:
    """``harness check lessons/dl.md --devices cpu --no-cache --json results.json --report
    report`` run once per test session, in a new process in the project's root as a user runs
    it, its cache written to ``cache/``: a folder with results.json, report/, cache/ and
    stdout (what it printed). Read it, never change it (copy the cache to use it)."""

    def check(folder: Path) -> None:
        done = harness_check(
            "lessons/dl.md",
            "--devices",
            "cpu",
            "--no-cache",
            "--json",
            str(folder / "results.json"),
            "--report",
            str(folder / "report"),
            HARNESS_CACHE_DIR=str(folder / "cache"),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (folder / "stdout").write_text(done.stdout, encoding="utf-8")

    return once("dl-checked", check)


@pytest.fixture
def dl_cache(dl_checked: Path, tmp_path: Path) -> Path:
    """A copy of the cache ``dl_checked``'s run wrote: a check of lessons/dl.md given it
    (``HARNESS_CACHE_DIR``) answers every block from it, for tests of what a check says
    rather than of what it runs."""
    return Path(shutil.copytree(dl_checked / "cache", tmp_path / "cache"))


@pytest.fixture(scope="session")
def dl_wrong_checked() -> Path:
    """lessons/dl.md with the claim at line 111 made wrong (``# [1, 3]`` -> ``# [1, 4]``) and
    ``without_training`` (block 607 skipped), checked once per test session by ``harness
    check lessons --json results.json --report reports`` in a new process in a folder of its
    own: that folder, holding lessons/dl.md, results.json, reports/, stdout (what it printed)
    and exit (its exit code)."""

    def check(folder: Path) -> None:
        (folder / "lessons").mkdir()
        wrong = mutate(111, "# [1, 3]", "# [1, 4]", without_training())
        (folder / "lessons" / "dl.md").write_text(wrong, encoding="utf-8")
        out = ("--json", "results.json", "--report", "reports")
        done = harness_check("lessons", *out, cwd=folder, HARNESS_CACHE_DIR=str(folder / "cache"))
        assert done.stderr == "", done.stderr
        (folder / "stdout").write_text(done.stdout, encoding="utf-8")
        (folder / "exit").write_text(str(done.returncode))

    return once("dl-wrong-checked", check)


@pytest.fixture(scope="session")
def dl_result() -> LessonResult:
    """lessons/dl.md checked once per test session, on cpu in reader order, as
    ``tests.lessons.check_text(dl_source)`` checks it (the same run): read it, never change it."""
    return check_text(LESSON.read_text(encoding="utf-8"))
