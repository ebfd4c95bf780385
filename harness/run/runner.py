"""Check a lesson on each device, each run in its own worker process.

The worker (``harness.run.worker``) runs the blocks; ``supervise`` collects its events, so a
lesson that crashes or exits its process is reported as that block's failure while every
other lesson and device still runs. Claims are found here too, so even a crashed run lists
them.

With a ``Cache`` (``harness check``; the pytest plugin runs without one), blocks whose key is
stored are answered from it: in reader order the lesson runs up to the last block whose key
is missing, isolated only the blocks whose key is missing run, each from its snippet. Claim
verdicts are folded from each block's contribution, cached or fresh.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

from harness.claims import read_comments
from harness.config import Setup
from harness.lesson import Lesson
from harness.results import BlockResult, LessonResult, Status
from harness.run.cache import Cache, Entry, block_keys
from harness.run.process import Progress as Progress
from harness.run.resources import MEMORY_LIMIT as MEMORY_LIMIT
from harness.run.resources import TIME_LIMIT as TIME_LIMIT
from harness.run.resources import Limits, worker_environment
from harness.run.settle import Contributions, fold, settle
from harness.run.signals import STOP
from harness.run.signals import Interrupted as Interrupted
from harness.run.signals import deferred_signals as deferred_signals
from harness.run.signals import stop_on_signals as stop_on_signals
from harness.run.supervise import run_on
from harness.static.depends import Dependencies, dependency_map
from harness.static.lint import device_fragile


def check_lesson(
    lesson: Lesson,
    devices: Sequence[str],
    progress: Progress | None = None,
    isolated: bool = False,
    only: int | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
    cache: Cache | None = None,
    setup: Setup | None = None,
) -> LessonResult:
    """Run ``lesson`` on every device and gather block results and claim verdicts.

    ``isolated``: each block runs alone from its snippet; ``only``: just that block (isolated).
    ``cache``: answer unchanged blocks from it (ignored with ``only``). ``setup``: the project
    configuration's code (``harness.config``), run before the blocks in the worker.
    """
    deps = dependency_map(lesson)
    needs = {line: d.needs for line, d in deps.items()}
    mode = "isolated" if isolated or only is not None else "reader"
    claims, prose = read_comments(lesson)
    result = LessonResult(lesson, claims, [], needs=needs, mode=mode, prose=prose)
    result.notes = device_fragile(lesson)
    limits = Limits(time_limit, memory_limit, setup)
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
                    Status.SKIPPED, reason=reason
                )
        if only is not None and only not in python:
            continue
        contributions: Contributions = {}
        try:
            if cache is not None and only is None:
                available = _cached_run(
                    result, device, progress, limits, cache, deps, contributions
                )
            else:
                lines = None if only is None else {only}
                available = run_on(result, device, progress, lines, limits, contributions)
        except Interrupted as stopped:  # keep what finished; the rest did not run
            reason = f"the check was interrupted ({stopped})"
            for line in python if only is None else {only}:
                result.blocks.setdefault(line, {}).setdefault(
                    device, BlockResult(Status.NOT_RUN, reason=reason)
                )
            available = []
        if every:
            if cache is not None and available:
                cache.store_devices(available)
            elif cache is not None:
                available = _available(cache)
            queue += [d for d in available if d not in queue]
        fold(result, device, contributions)
        settle(result, device, only)
    return result


def cache_summary(result: LessonResult) -> str:
    """``path.md: 2 blocks ran, 15 from the cache`` (block runs, over every device)."""
    ran = cached = 0
    for fence in result.lesson.python_fences:
        for block in result.blocks.get(fence.line, {}).values():
            if block.cached:
                cached += 1
            elif block.status in (Status.PASSED, Status.FAILED, Status.UNSUPPORTED, Status.NEEDS):
                ran += 1
    blocks = "block" if ran == 1 else "blocks"
    return f"{result.lesson.path}: {ran} {blocks} ran, {cached} from the cache"


def _cached_run(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    limits: Limits,
    cache: Cache,
    deps: dict[int, Dependencies],
    contributions: Contributions,
) -> list[str]:
    """Answer what the cache holds, run the rest; store what ran. Returns available devices.

    Reader order: the lesson runs from its first block to the last block whose key is missing
    (an edit there, or in code before it), and the blocks after it are answered from the
    cache; should that run end early (a crash, a time limit), or a block's entry be one a run
    may not give again (it needed the network), the whole lesson runs, so every verdict is
    the one a reader meets. Isolated: only the blocks whose key is missing run,
    each from its snippet, as they always do.
    """
    lesson = result.lesson
    setup = limits.setup.to_json() if limits.setup else None
    keys = block_keys(
        lesson, result.claims, deps, device, result.mode, limits.time, limits.memory, setup
    )
    if keys is None:  # the lesson reads the whole environment: no key can cover it
        return run_on(result, device, progress, None, limits, contributions)
    stored = cache.entries(lesson.path, device, result.mode)
    found = {line: _found(stored, key, line) for line, key in keys.items()}
    fresh = {line for line, entry in found.items() if entry is None or not entry.final}
    available: list[str] = []
    if fresh and result.mode == "reader":
        # after a block whose result may differ now, every block runs again
        again = any(entry is not None and not entry.final for entry in found.values())
        until = max(keys) if again else max(fresh)
        available = run_on(result, device, progress, None, limits, contributions, until)
        fresh = {line for line in keys if line <= until}
        if not (STOP or _whole(result, device, until)):  # the rest would not run as before
            for line in keys:
                result.blocks.get(line, {}).pop(device, None)
                contributions.pop(line, None)
            available = run_on(result, device, progress, None, limits, contributions)
            fresh = set(keys)
    elif fresh:
        available = run_on(result, device, progress, fresh, limits, contributions)
    for line, entry in found.items():
        if line not in fresh and entry is not None:
            result.blocks.setdefault(line, {})[device] = entry.result
            contributions[line] = entry.claims
    entries = {
        key: Entry(line, result.blocks[line][device], contributions[line])
        for line, key in keys.items()
        if line in contributions and device in result.blocks.get(line, {})
    }
    cache.store(lesson.path, device, result.mode, entries)
    return available


def _whole(result: LessonResult, device: str, until: int) -> bool:
    """Every block up to ``until`` ran to its own end in one worker: none was cut short by a
    crash or a time limit, none resumed after one, none left unrun."""
    for fence in result.lesson.python_fences:
        block = result.blocks.get(fence.line, {}).get(device)
        if fence.line > until:
            break
        if block is None or block.status == Status.NOT_RUN or block.resumed_after is not None:
            return False
        if block.error is not None and block.error.type in ("WorkerCrash", "TimeLimit"):
            return False
    return True


def _found(stored: dict[str, Entry], key: str, line: int) -> Entry | None:
    entry = stored.get(key)
    return entry if entry is not None and entry.line == line else None


def _available(cache: Cache) -> list[str]:
    """The devices torch finds here: from the cache, or (once) from a short process."""
    found = cache.devices()
    if found is not None:
        return found
    code = "import json; from harness.run.devices import available; print(json.dumps(available()))"
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
