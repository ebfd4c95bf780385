"""What a worker may use: time and memory per block, the cores its threads run on, and the
folder lesson code may not write into."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from harness.config import Setup

TIME_LIMIT = 300.0  # seconds per block (worker start included): the lesson's own loop is ~3 s
CGROUP = Path("/sys/fs/cgroup")


def default_memory_limit() -> int:
    """Half of this machine's memory (or of its cgroup's ``memory.max``), in MB; 0: unknown.

    A worker that imports torch and runs lessons/dl.md uses about 330 MB of data memory.
    """
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 0
    try:
        cgroup = (CGROUP / "memory.max").read_text().strip()
        if cgroup.isdigit():
            total = min(total, int(cgroup))
    except OSError:
        pass
    return max(total // 2 // 2**20, 0)


MEMORY_LIMIT = default_memory_limit()


@dataclass(frozen=True)
class Limits:
    time: float  # seconds per block, unless its ``time-limit`` directive says otherwise
    memory: int  # MB of data memory per worker; 0: no limit
    setup: Setup | None = None  # the project configuration's code, run before the blocks


def usable_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may run on: its CPU affinity, bounded by its cgroup v2 CPU
    quota (``cpu.max``: ``150000 100000`` is 1.5 cores, rounded up; ``max``: no quota)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        if quota != "max" and int(period) > 0:
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 here, or a line that makes no sense
        pass
    return max(cores, 1)


def worker_environment(cgroup: Path = CGROUP) -> dict[str, str]:
    """The worker's environment: torch's threads sized to the cores this process may use
    (shared out when pytest-xdist runs several workers), and OpenMP's threads told to sleep,
    not spin, while they wait. A variable the user set is kept as it is.

    Threads that spin on oversubscribed cores make every other process slower, and
    themselves: two torch processes each spinning two OpenMP threads on two cores ran many
    times slower than one (measured: 4.5 s alone, over 60 s each side by side).
    """
    env = dict(os.environ)
    parallel = max(int(env.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1"), 1)
    cores = usable_cores(cgroup)
    # torch's own default is the machine's (physical) cores: kept when all of them are ours
    if parallel > 1 or cores < (os.cpu_count() or 1):
        env.setdefault("OMP_NUM_THREADS", str(max(1, cores // parallel)))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def protected_folder() -> str | None:
    """The folder lesson code may not write into: the one harness was started from, unless
    that is the home folder or the root (caches such as ~/.cache/torch live there)."""
    here = os.path.realpath(os.getcwd())
    if here in (os.path.realpath(os.path.expanduser("~")), os.path.realpath(os.sep)):
        return None
    return here
