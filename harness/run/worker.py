"""The worker process: ``python -m harness.run.worker FD`` runs one lesson on one device.

It reads a ``protocol.Request`` as JSON on stdin and writes its events (``protocol``), one JSON
line each, to file descriptor FD (not stdout, which the lesson may write to directly). A
process the lesson forks sends nothing, and the event descriptor is not inherited by programs
the lesson starts.

Before the lesson runs, the worker limits its own data memory (``memory_limit`` MB,
``RLIMIT_DATA``; 0: none) and refuses, through an audit hook, Python-level writes into the
``protect`` folder (the one harness was started from), outside the temporary folder.
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import sys
import threading
from typing import IO, NoReturn

from harness.claims import find_claims
from harness.lesson import Fence, parse_lesson
from harness.results import BlockResult, ClaimResult
from harness.run import devices, guard, protocol
from harness.run.execute import run_lesson


def limit_memory(megabytes: int) -> None:
    """Cap the data memory of this process: past it, allocations fail (``MemoryError``).

    ``RLIMIT_DATA``, not ``RLIMIT_AS``: it counts what the process writes (heap, anonymous
    mappings), not the address space that torch and CUDA reserve without using.
    """
    if megabytes > 0:
        size = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))


def _explain_memory(result: BlockResult, megabytes: int) -> None:
    error = result.error
    if error is None or megabytes <= 0:
        return
    if error.type == "MemoryError" or "can't allocate memory" in error.message:
        detail = f": {error.message}" if error.message else ""
        error.message = (
            f"out of memory: the block reached the memory limit of {megabytes} MB "
            f"(--memory-limit){detail}"
        )


def end_with_parent() -> None:
    """Linux: should the harness process die (``kill -9``), this worker is killed too."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def main(argv: list[str]) -> int:
    end_with_parent()
    descriptor = int(argv[0])
    os.set_inheritable(descriptor, False)  # a program the lesson starts does not get it
    events: IO[str] = os.fdopen(descriptor, "w", buffering=1, encoding="utf-8")
    worker = os.getpid()

    def send(event: protocol.Event) -> None:
        if os.getpid() != worker:  # a process the lesson forked: it reports nothing
            return
        events.write(protocol.encode(event) + "\n")
        events.flush()

    request = protocol.Request.from_json(sys.stdin.read())
    send(protocol.Available(tuple(devices.available())))
    reason = devices.unavailable_reason(request.device)
    if reason is not None:
        send(protocol.Unavailable(reason))
        return 0
    lesson = parse_lesson(request.source, request.path)
    claims = find_claims(lesson)

    def on_block(fence: Fence, result: BlockResult, tallies: dict[int, ClaimResult]) -> None:
        _explain_memory(result, request.memory_limit)
        send(protocol.Finished(fence.line, result, tallies))

    def on_start(fence: Fence) -> None:
        send(protocol.Started(fence.line))

    limit_memory(request.memory_limit)
    if request.protect:
        guard.install(request.protect)
    run_lesson(
        lesson,
        claims,
        request.device,
        on_block,
        on_start,
        isolated=request.isolated,
        only=request.only,
        resume=request.resume,  # after a time limit: from that block on (the runner's)
        timed_out=request.timed_out,
        until=request.until,
        setup=request.setup,
    )
    if os.getpid() != worker:  # a fork of the lesson's that ran on to the end: not the worker
        os._exit(0)
    send(protocol.Done())  # the runner ends the lesson's leftover threads and processes
    events.close()
    return 0


def exit_without_teardown(code: int) -> NoReturn:
    """End as Python ends, less its teardown of every module: the lesson's non-daemon threads
    are waited for (the checker ends them ``process.GRACE`` after the last block), its
    ``atexit`` functions run, output is flushed. After an optimizer's step (which loads torch's
    compiler) the teardown took 0.8 s, which the checker waited for; a worker forked from a
    warm process ends with ``os._exit`` too."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
