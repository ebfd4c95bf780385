"""Check a lesson on each device, each run in its own worker process.

The worker (``harness.worker``) runs the blocks; this side collects its events, so a lesson
that crashes or exits its process is reported as that block's failure while every other
lesson and device still runs. Claims are found here too, so even a crashed run lists them.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from harness.claims import find_claims
from harness.depends import dependency_map
from harness.lesson import Lesson
from harness.lint import device_fragile
from harness.results import BlockResult, ClaimResult, ErrorInfo, LessonResult

Progress = Callable[[Lesson, str, int], None]
TIME_LIMIT = 300.0  # seconds per block (worker start included): the lesson's own loop is ~3 s


def check_lesson(
    lesson: Lesson,
    devices: Sequence[str],
    progress: Progress | None = None,
    isolated: bool = False,
    only: int | None = None,
    time_limit: float = TIME_LIMIT,
) -> LessonResult:
    """Run ``lesson`` on every device and gather block results and claim verdicts.

    ``isolated``: each block runs alone from its snippet; ``only``: just that block (isolated).
    """
    needs = {line: deps.needs for line, deps in dependency_map(lesson).items()}
    mode = "isolated" if isolated or only is not None else "reader"
    result = LessonResult(lesson, find_claims(lesson), [], needs=needs, mode=mode)
    result.notes = device_fragile(lesson)
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
        available = _run_on(result, device, progress, only, time_limit)
        if every:
            queue += [d for d in available if d not in queue]
        _settle(result, device, only)
    return result


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


def _run_on(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    only: int | None,
    time_limit: float,
) -> list[str]:
    """Run one worker; returns the devices it found available."""
    lesson = result.lesson
    # a file, not a pipe: a chatty lesson cannot block on it; closed once the worker ends
    errors = tempfile.TemporaryFile()  # noqa: SIM115
    read_fd, write_fd = os.pipe()
    request = json.dumps(
        {
            "path": lesson.path,
            "source": lesson.source,
            "device": device,
            "isolated": result.mode == "isolated",
            "only": only,
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
    with os.fdopen(read_fd, "rb") as events:
        for raw in _lines(events, lambda: time_limit):
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
                running = None
            elif "claims" in event:
                for line, tally in event["claims"].items():
                    result.verdicts.setdefault(int(line), {})[device] = ClaimResult(**tally)
    code = process.wait()
    errors.seek(0)
    stderr = errors.read().decode("utf-8", "replace")
    errors.close()
    if timed_out and running is not None:
        error = ErrorInfo("TimeLimit", f"the block ran longer than {time_limit:g} s", running)
        result.blocks.setdefault(running, {})[device] = BlockResult("failed", time_limit, "", error)
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
    only: int | None,
) -> None:
    """The worker died: blame the block it was running; the blocks after it did not run."""
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    fatal = [line for line in stderr.splitlines() if "Error" in line or "fault" in line]
    detail = f": {fatal[-1].strip()}" if fatal else ""
    for fence in result.lesson.python_fences:
        if device in result.blocks.get(fence.line, {}) or only not in (None, fence.line):
            continue
        if fence.line == running:
            error = ErrorInfo(
                "WorkerCrash", f"the process running the block {how}{detail}", fence.line
            )
            block = BlockResult("failed", error=error)
            running = -1
        else:
            block = BlockResult("not-run", reason="an earlier block ended the process")
        result.blocks.setdefault(fence.line, {})[device] = block


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
                if block is not None and block.status == "failed" and block.error is not None:
                    why = "its block failed before this line ran"
                else:
                    why = "this line never ran (is the function ever called?)"
                verdict = ClaimResult("not-run", message=why)
            per_device[device] = verdict
        if verdict.verdict == "failed":
            block = result.blocks.get(claim.block, {}).get(device)
            if block is not None and block.status == "passed":
                block.status = "failed"
                block.reason = f"claim at line {claim.line} failed"
