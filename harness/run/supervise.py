"""Run a lesson's blocks on one device through worker processes, so that every block asked
for ends with a result: its own, or a failure with the reason (``TimeLimit``,
``WorkerCrash``) at the first block the worker did not finish, the blocks after it not run.

After a block's time limit the rest is not lost: a new worker resumes from the next block,
from its snippet's prelude (``execute.run_lesson``, ``resume``), and each block it runs says
so (``resumed_after``). A crash does not resume: a process that dies (``os._exit``, a signal,
native code) may have been ended on purpose, and a lesson that ends every worker it gets
would start one per block.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import BlockResult, ClaimResult, ErrorInfo, LessonResult, Status, Verdict
from harness.run.process import Progress, WorkerRun, launch
from harness.run.protocol import Request
from harness.run.resources import Limits, protected_folder
from harness.run.settle import Contributions
from harness.run.signals import STOP, Interrupted, signal_name

ENDED = "an earlier block ended the process"


def run_on(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    only: set[int] | None,
    limits: Limits,
    contributions: Contributions,
    until: int | None = None,
) -> list[str]:
    """Run one worker (``only``: just those blocks, each from its snippet; ``until``: reader
    order up to that block); returns the devices it found available. Each block's claim checks
    go to ``contributions``."""
    lesson = result.lesson
    wanted = [
        f.line
        for f in lesson.python_fences
        if (only is None or f.line in only) and (until is None or f.line <= until)
    ]
    if STOP:  # interrupted before this run: start nothing
        raise Interrupted(STOP[0])
    block_limit = {f.line: f.time_limit or limits.time for f in lesson.python_fences}
    timed_out: list[int] = []  # blocks that ran past their time limit: the rest resumed
    resume: int | None = None  # reader order: the block a new worker resumes from
    while True:
        request = _request(result, device, only, limits, resume, timed_out, until)
        run = launch(request, lesson, progress, block_limit, limits.time)
        for line, block, claims in run.finished:
            if timed_out:
                _resumed(block, timed_out[-1])
            result.blocks.setdefault(line, {})[device] = block
            contributions[line] = claims
        if run.unavailable:
            _unavailable(result, device, run.unavailable)
            return run.available
        unfinished = [line for line in wanted if device not in result.blocks.get(line, {})]
        if not unfinished:
            return run.available
        first, *rest = unfinished
        if run.interrupted:
            reason = f"the check was interrupted ({signal_name(run.interrupted)})"
            for line in unfinished:
                result.blocks.setdefault(line, {})[device] = BlockResult(
                    Status.NOT_RUN, reason=reason
                )
            return run.available
        resumes = bool(run.timed_out and run.running == first and rest)
        block = _failure(run, first, rest[0] if resumes else None)
        if timed_out:
            block.resumed_after = timed_out[-1]
        result.blocks.setdefault(first, {})[device] = block
        if resumes and STOP:  # interrupted meanwhile: no new worker starts
            reason = f"the check was interrupted ({signal_name(STOP[0])})"
            for line in rest:
                result.blocks.setdefault(line, {})[device] = BlockResult(
                    Status.NOT_RUN, reason=reason
                )
            return run.available
        if resumes:  # the rest of the lesson is not lost: a new worker runs it
            timed_out.append(first)
            if only is None and result.mode == "reader":
                resume = rest[0]
            else:
                only = set(rest)
            continue
        for line in rest:
            result.blocks.setdefault(line, {})[device] = BlockResult(Status.NOT_RUN, reason=ENDED)
        return run.available


def _request(
    result: LessonResult,
    device: str,
    only: set[int] | None,
    limits: Limits,
    resume: int | None,
    timed_out: Sequence[int],
    until: int | None,
) -> Request:
    lesson = result.lesson
    return Request(
        path=lesson.path,
        source=lesson.source,
        device=device,
        isolated=result.mode == "isolated",
        only=None if only is None else frozenset(only),
        memory_limit=limits.memory,
        protect=protected_folder(),
        setup=limits.setup,
        resume=resume,
        timed_out=frozenset(timed_out),
        until=until,
    )


def _unavailable(result: LessonResult, device: str, reason: str) -> None:
    """The device is not here: every block skipped, every claim not run, with the reason."""
    result.absent[device] = reason
    for fence in result.lesson.python_fences:
        result.blocks.setdefault(fence.line, {})[device] = BlockResult(
            Status.SKIPPED, reason=reason
        )
    for claim in result.claims:
        verdict = ClaimResult(Verdict.NOT_RUN, message=reason)
        result.verdicts.setdefault(claim.line, {})[device] = verdict


def _failure(run: WorkerRun, first: int, resumed_from: int | None) -> BlockResult:
    """The first block the worker did not finish: past its time limit, or crashed
    (``resumed_from``: the block a new worker resumes from after the time limit)."""
    if not run.timed_out:
        return BlockResult(Status.FAILED, error=_crash(run, first))
    seconds = run.limit()
    if run.running == first:
        message = f"the block ran longer than {seconds:g} s"
        if resumed_from is not None and not STOP:
            message += f" (the blocks after it ran in a new worker, from line {resumed_from})"
        error = ErrorInfo("TimeLimit", message, first)
    else:
        error = ErrorInfo(
            "TimeLimit",
            f"the worker process did not start the block within {seconds:g} s "
            "(--time-limit, worker start included)",
            first,
        )
    return BlockResult(Status.FAILED, seconds, "", error)


def _resumed(block: BlockResult, after: int) -> None:
    """Say that a block ran in a new worker, from its snippet, after a time limit."""
    block.resumed_after = after
    if not block.reason:
        block.reason = (
            f"ran in a new worker, from its snippet's prelude, after the block at line {after} "
            "ran past its time limit"
        )


def _crash(run: WorkerRun, line: int) -> ErrorInfo:
    """Why the worker ended before finishing the block at ``line``."""
    if run.start_error:
        return ErrorInfo("WorkerCrash", f"the worker process {run.start_error}", line)
    if run.done:  # only lesson code writing to the worker's event descriptor does that
        return ErrorInfo(
            "WorkerCrash", "the worker reported the lesson done before the block finished", line
        )
    code = (run.process.returncode if run.process is not None else None) or 0
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    fatal = [row for row in run.stderr.splitlines() if "Error" in row or "fault" in row]
    detail = f": {fatal[-1].strip()}" if fatal else ""
    if run.running == line:
        return ErrorInfo("WorkerCrash", f"the process running the block {how}{detail}", line)
    return ErrorInfo(
        "WorkerCrash", f"the worker process {how} before the block started{detail}", line
    )
