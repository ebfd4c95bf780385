"""What a worker may use: the cores its threads are sized to, OpenMP's wait policy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.run.resources import usable_cores, worker_environment

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "cores"),
    [
        (None, AFFINITY),  # no cgroup v2 file: the affinity
        ("max 100000\n", AFFINITY),  # no quota
        ("100000 100000\n", 1),
        ("50000 100000\n", 1),  # half a core: one thread
        ("150000 100000\n", min(AFFINITY, 2)),  # 1.5 cores: rounded up, within the affinity
        ("garbage\n", AFFINITY),
    ],
)
def test_the_usable_cores_are_the_affinity_bounded_by_the_cgroup_quota(
    tmp_path: Path, cpu_max: str | None, cores: int
) -> None:
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max)
    assert usable_cores(tmp_path) == cores


def test_openmp_threads_wait_passively_unless_the_user_said_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert worker_environment(tmp_path)["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert worker_environment(tmp_path)["OMP_WAIT_POLICY"] == "ACTIVE"


def test_threads_are_sized_to_the_cores_this_process_may_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # a big machine, of which we may use 1
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert worker_environment(tmp_path)["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice stays
    assert worker_environment(tmp_path)["OMP_NUM_THREADS"] == "3"


def test_xdist_workers_share_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(AFFINITY * 2))
    assert worker_environment(tmp_path)["OMP_NUM_THREADS"] == "1"


def test_all_the_machines_cores_leave_torch_its_own_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch counts physical cores; the affinity counts logical ones: no number is forced."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: AFFINITY)
    assert "OMP_NUM_THREADS" not in worker_environment(tmp_path)
