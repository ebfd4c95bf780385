"""Check a lesson on each device, each run in its own worker process.

The worker (``harness.worker``) runs the blocks; this side collects its events, so a lesson
that crashes or exits its process is reported as that block's failure while every other
lesson and device still runs. Claims are found here too, so even a crashed run lists them.

With a ``Cache`` (``harness check``; the pytest plugin runs without one), blocks whose key is
stored are answered from it, and only the others run, each from its snippet prelude in one
worker; should one of those fail, the lesson runs again in full, in reader order, so every
failure reported is a reader-order one. Claim verdicts are folded from each block's
contribution, cached or fresh.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from harness import behaviours
from harness.cache import Cache, Entry, block_keys
from harness.claims import read_comments
from harness.depends import Dependencies, dependency_map
from harness.lesson import Lesson
from harness.lint import device_fragile
from harness.results import BlockResult, ClaimResult, ErrorInfo, LessonResult

Progress = Callable[[Lesson, str, int], None]
Contributions = dict[int, dict[int, ClaimResult]]  # block line -> claim line -> its checks
TIME_LIMIT = 300.0  # seconds per block (worker start included): the lesson's own loop is ~3 s
ENDED = "an earlier block ended the process"


def default_memory_limit() -> int:
    """Half of this machine's memory (or of its cgroup's ``memory.max``), in MB; 0: unknown.

    A worker that imports torch and runs lessons/dl.md uses about 330 MB of data memory.
    """
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 0
    try:
        cgroup = Path("/sys/fs/cgroup/memory.max").read_text().strip()
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


def check_lesson(
    lesson: Lesson,
    devices: Sequence[str],
    progress: Progress | None = None,
    isolated: bool = False,
    only: int | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
    cache: Cache | None = None,
) -> LessonResult:
    """Run ``lesson`` on every device and gather block results and claim verdicts.

    ``isolated``: each block runs alone from its snippet; ``only``: just that block (isolated).
    ``cache``: answer unchanged blocks from it (ignored with ``only``).
    """
    deps = dependency_map(lesson)
    needs = {line: d.needs for line, d in deps.items()}
    mode = "isolated" if isolated or only is not None else "reader"
    claims, prose = read_comments(lesson)
    result = LessonResult(lesson, claims, [], needs=needs, mode=mode, prose=prose)
    result.notes = device_fragile(lesson)
    limits = Limits(time_limit, memory_limit)
    every = "all" in devices
    queue = ["cpu", *[d for d in devices if d not in ("all", "cpu")]] if every else list(devices)
    python = {fence.line for fence in lesson.python_fences}
    for device in queue:  # grows when "all" learns what is available
        result.devices.append(device)
        for fence in lesson.fences:
            if not fence.is_python:
                kind = f"a {fence.language} fence" if fence.language else "a fence, no language"
                reason = f"{kind}: only Python blocks are run"
                result.blocks.setdefault(fence.line, {})[device] = BlockResult(
                    "not-run", reason=reason
                )
        if only is not None and only not in python:
            continue
        contributions: Contributions = {}
        if cache is not None and only is None:
            available = _cached_run(result, device, progress, limits, cache, deps, contributions)
        else:
            lines = None if only is None else {only}
            available = _run_on(result, device, progress, lines, limits, contributions)
        if every:
            if cache is not None and available:
                cache.store_devices(available)
            elif cache is not None:
                available = _available(cache)
            queue += [d for d in available if d not in queue]
        _fold(result, device, contributions)
        _settle(result, device, only)
    return result


def cache_summary(result: LessonResult) -> str:
    """``path.md: 2 blocks ran, 15 from the cache`` (block runs, over every device)."""
    ran = cached = 0
    for fence in result.lesson.python_fences:
        for block in result.blocks.get(fence.line, {}).values():
            if block.cached:
                cached += 1
            elif block.status in ("passed", "failed", "unsupported"):
                ran += 1
    blocks = "block" if ran == 1 else "blocks"
    return f"{result.lesson.path}: {ran} {blocks} ran, {cached} from the cache"


def worker_environment() -> dict[str, str]:
    """The worker's environment: its share of the cores when pytest-xdist runs several.

    Two torch processes each spinning two OpenMP threads on two cores run many times slower
    than one (measured: 4.5 s alone, over 60 s each side by side).
    """
    env = dict(os.environ)
    parallel = int(env.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    if parallel > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // parallel))
    return env


def _cached_run(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    limits: Limits,
    cache: Cache,
    deps: dict[int, Dependencies],
    contributions: Contributions,
) -> list[str]:
    """Answer what the cache holds, run the rest; store what ran. Returns available devices."""
    lesson = result.lesson
    keys = block_keys(lesson, result.claims, deps, device, result.mode, limits.time, limits.memory)
    stored = cache.entries(lesson.path, device, result.mode)
    fresh: set[int] = set()
    for line, key in keys.items():
        entry = stored.get(key)
        if entry is None or entry.line != line:
            fresh.add(line)
        else:
            result.blocks.setdefault(line, {})[device] = entry.result
            contributions[line] = entry.claims
    available: list[str] = []
    hang = None
    if fresh == set(keys) and result.mode == "reader":
        available = _run_on(result, device, progress, None, limits, contributions)
    elif fresh:
        available = _run_on(result, device, progress, fresh, limits, contributions)
        bad = [
            line
            for line in sorted(fresh)
            if not _fine(result.blocks.get(line, {}).get(device))
            or any(c.verdict == "failed" for c in contributions.get(line, {}).values())
        ]
        timed_out = [line for line in bad if _error_type(result, line, device) == "TimeLimit"]
        hang = timed_out[0] if timed_out else None
        if result.mode == "reader" and bad and (hang is None or bad[0] < hang):
            hang = None  # a failure alone (a block's or a claim's) may differ from reader
            # order: so every failure reported is one a reader meets, run the lesson in full
            for line in keys:
                result.blocks.get(line, {}).pop(device, None)
            contributions.clear()
            available = _run_on(result, device, progress, None, limits, contributions)
    entries = {
        key: Entry(line, result.blocks[line][device], contributions[line])
        for line, key in keys.items()
        if line in contributions and device in result.blocks.get(line, {})
    }
    cache.store(lesson.path, device, result.mode, entries)
    if hang is not None and result.mode == "reader":  # in reader order, nothing after it ran
        for line in keys:
            if line > hang:
                result.blocks.setdefault(line, {})[device] = BlockResult("not-run", reason=ENDED)
                contributions.pop(line, None)
    return available


def protected_folder() -> str | None:
    """The folder lesson code may not write into: the one harness was started from, unless
    that is the home folder or the root (caches such as ~/.cache/torch live there)."""
    here = os.path.realpath(os.getcwd())
    if here in (os.path.realpath(os.path.expanduser("~")), os.path.realpath(os.sep)):
        return None
    return here


def _fine(block: BlockResult | None) -> bool:
    return block is not None and block.status in ("passed", "skipped")


def _error_type(result: LessonResult, line: int, device: str) -> str:
    error = result.blocks[line][device].error
    return error.type if error is not None else ""


def _available(cache: Cache) -> list[str]:
    """The devices torch finds here: from the cache, or (once) from a short process."""
    found = cache.devices()
    if found is not None:
        return found
    code = "import json; from harness.devices import available; print(json.dumps(available()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )
    try:
        found = [str(d) for d in json.loads(done.stdout.splitlines()[-1])]
    except (IndexError, ValueError, TypeError):
        return []
    cache.store_devices(found)
    return found


def _run_on(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    only: set[int] | None,
    limits: Limits,
    contributions: Contributions,
) -> list[str]:
    """Run one worker (``only``: just those blocks, each from its snippet); returns the
    devices it found available. Each block's claim checks go to ``contributions``."""
    lesson = result.lesson
    block_limit = {f.line: f.time_limit or limits.time for f in lesson.python_fences}
    # a file, not a pipe: a chatty lesson cannot block on it; closed once the worker ends
    errors = tempfile.TemporaryFile()  # noqa: SIM115
    read_fd, write_fd = os.pipe()
    request = json.dumps(
        {
            "path": lesson.path,
            "source": lesson.source,
            "device": device,
            "isolated": result.mode == "isolated",
            "only": None if only is None else sorted(only),
            "memory_limit": limits.memory,
            "protect": protected_folder(),
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.worker", str(write_fd)],
        env=worker_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        pass_fds=(write_fd,),
        text=True,
    )
    os.close(write_fd)
    assert process.stdin is not None
    process.stdin.write(request)
    process.stdin.close()
    running: int | None = None
    available: list[str] = []
    unavailable = ""
    timed_out = False

    def limit() -> float:
        return block_limit.get(running, limits.time) if running is not None else limits.time

    with os.fdopen(read_fd, "rb") as events:
        for raw in _lines(events, limit):
            if raw is None:  # the running block is past its time limit
                process.kill()
                timed_out = True
                break
            event = json.loads(raw)
            if "available" in event:
                available = event["available"]
            elif "unavailable" in event:
                unavailable = event["unavailable"]
            elif "start" in event:
                running = event["start"]
                if progress is not None and running is not None:
                    progress(lesson, device, running)
            elif "block" in event:
                block = BlockResult.from_json(event["result"])
                result.blocks.setdefault(event["block"], {})[device] = block
                contributions[event["block"]] = {
                    int(line): ClaimResult(**tally) for line, tally in event["claims"].items()
                }
                running = None
    code = process.wait()
    errors.seek(0)
    stderr = errors.read().decode("utf-8", "replace")
    errors.close()
    if timed_out and running is not None:
        seconds = limit()
        error = ErrorInfo("TimeLimit", f"the block ran longer than {seconds:g} s", running)
        result.blocks.setdefault(running, {})[device] = BlockResult("failed", seconds, "", error)
    if unavailable:
        for fence in lesson.python_fences:
            skipped = BlockResult("skipped", reason=unavailable)
            result.blocks.setdefault(fence.line, {})[device] = skipped
        for claim in result.claims:
            verdict = ClaimResult("not-run", message=unavailable)
            result.verdicts.setdefault(claim.line, {})[device] = verdict
    elif running is not None or code != 0:
        _crashed(result, device, running, code, stderr, only)
    return available


def _lines(stream: BinaryIO, limit: Callable[[], float]) -> Iterator[bytes | None]:
    """Lines of ``stream``; None when no line came within ``limit()`` seconds."""
    buffer = b""
    while True:
        ready, _, _ = select.select([stream], [], [], limit())
        if not ready:
            yield None
            return
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from complete


def _crashed(
    result: LessonResult,
    device: str,
    running: int | None,
    code: int,
    stderr: str,
    only: set[int] | None,
) -> None:
    """The worker died: blame the block it was running; the blocks after it did not run."""
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    fatal = [line for line in stderr.splitlines() if "Error" in line or "fault" in line]
    detail = f": {fatal[-1].strip()}" if fatal else ""
    for fence in result.lesson.python_fences:
        if device in result.blocks.get(fence.line, {}):
            continue
        if only is not None and fence.line not in only:
            continue
        if fence.line == running:
            error = ErrorInfo(
                "WorkerCrash", f"the process running the block {how}{detail}", fence.line
            )
            block = BlockResult("failed", error=error)
            running = -1
        else:
            block = BlockResult("not-run", reason=ENDED)
        result.blocks.setdefault(fence.line, {})[device] = block


def _fold(result: LessonResult, device: str, contributions: Contributions) -> None:
    """Each claim's verdict: the contributions of every block, folded in reader order."""
    lines = {claim.line for claim in result.claims}
    for block in sorted(contributions):
        for line, tally in contributions[block].items():
            if line in lines:
                per_device = result.verdicts.setdefault(line, {})
                per_device.setdefault(device, ClaimResult("not-run")).fold(tally)


def _settle(result: LessonResult, device: str, only: int | None) -> None:
    """Verdicts for claims never checked, and blocks failed by their own failed claims."""
    if only is not None:  # one block alone: a failed claim fails the block that ran it
        block = result.blocks.get(only, {}).get(device)
        for line, per_device in result.verdicts.items():
            verdict = per_device.get(device)
            if verdict and verdict.verdict == "failed" and block and block.status == "passed":
                block.status, block.reason = "failed", f"claim at line {line} failed"
    for claim in result.claims:
        if only is not None and claim.block != only:
            continue  # another block's claim: its own run settles it
        per_device = result.verdicts.setdefault(claim.line, {})
        verdict = per_device.get(device)
        if verdict is None:
            if claim.reason:
                verdict = ClaimResult("unchecked", message=claim.reason)
            else:
                block = result.blocks.get(claim.block, {}).get(device)
                called = claim.kind == "behaviour" and any(
                    b.when_called for b, _ in behaviours.read(claim.text) or []
                )
                if block is not None and block.status == "failed" and block.error is not None:
                    why = "its block failed before this line ran"
                elif block is not None and block.status == "skipped":
                    why = f"its block was skipped: {block.reason}"
                elif block is not None and block.reason.startswith("raised "):
                    why = f"its block {block.reason}, before this line ran"
                elif called:
                    why = "the layer built on this line was never called (or the line never ran)"
                else:
                    why = "this line never ran (is the function ever called?)"
                verdict = ClaimResult("not-run", message=why)
            per_device[device] = verdict
        if verdict.verdict == "failed":
            block = result.blocks.get(claim.block, {}).get(device)
            if block is not None and block.status == "passed":
                block.status = "failed"
                block.reason = f"claim at line {claim.line} failed"
