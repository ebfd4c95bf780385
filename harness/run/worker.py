"""The worker process: ``python -m harness.run.worker FD`` runs one lesson on one device.

It reads ``{"path", "source", "device", "isolated", "only", "memory_limit", "protect", "setup",
"resume", "timed_out"}`` as JSON on stdin (``setup``: the project configuration's code,
``Setup.to_json``; ``resume``, ``timed_out``: after a block's time limit, the block to resume
from and the blocks that ran too long, see ``execute.run_lesson``) and writes one JSON line per
event to file descriptor FD (not stdout, which the lesson may write to directly):
``{"available": [...]}`` first, then ``{"start": LINE}`` before a block and ``{"block": LINE,
"result": {...}, "claims": {LINE: {...}}}`` after it, where ``claims`` holds the claim checks
made while that block ran (its contribution, folded by the runner), and ``{"done": true}`` after
the last block: from then on the runner waits a short grace period for threads and processes the
lesson left, then ends the worker's session. A process the lesson forks sends nothing, and the
event descriptor is not inherited by programs the lesson starts.

Before the lesson runs, the worker limits its own data memory (``memory_limit`` MB,
``RLIMIT_DATA``; 0: none) and refuses, through an audit hook, Python-level writes into the
``protect`` folder (the one harness was started from), outside the temporary folder.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from dataclasses import asdict
from typing import IO

from harness.claims import find_claims
from harness.config import Setup
from harness.lesson import Fence, parse_lesson
from harness.results import BlockResult, ClaimResult
from harness.run import devices, guard
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


def _end_with_parent() -> None:
    """Linux: should the harness process die (``kill -9``), this worker is killed too."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def main(argv: list[str]) -> int:
    _end_with_parent()
    descriptor = int(argv[0])
    os.set_inheritable(descriptor, False)  # a program the lesson starts does not get it
    events: IO[str] = os.fdopen(descriptor, "w", buffering=1, encoding="utf-8")
    worker = os.getpid()

    def send(event: dict[str, object]) -> None:
        if os.getpid() != worker:  # a process the lesson forked: it reports nothing
            return
        events.write(json.dumps(event) + "\n")
        events.flush()

    request = json.loads(sys.stdin.read())
    send({"available": devices.available()})
    reason = devices.unavailable_reason(request["device"])
    if reason is not None:
        send({"unavailable": reason})
        return 0
    lesson = parse_lesson(request["source"], request["path"])
    claims = find_claims(lesson)
    memory_limit = int(request.get("memory_limit") or 0)

    def on_block(fence: Fence, result: BlockResult, tallies: dict[int, ClaimResult]) -> None:
        _explain_memory(result, memory_limit)
        contribution = {str(line): asdict(tally) for line, tally in tallies.items()}
        send({"block": fence.line, "result": asdict(result), "claims": contribution})

    def on_start(fence: Fence) -> None:
        send({"start": fence.line})

    only = request.get("only")
    limit_memory(memory_limit)
    if request.get("protect"):
        guard.install(request["protect"])
    run_lesson(
        lesson,
        claims,
        request["device"],
        on_block,
        on_start,
        isolated=bool(request.get("isolated")),
        only=set(only) if isinstance(only, list) else only,
        resume=request.get("resume"),  # after a time limit: from that block on (the runner's)
        timed_out=set(request.get("timed_out") or ()),
        setup=Setup.from_json(request.get("setup")),
    )
    if os.getpid() != worker:  # a fork of the lesson's that ran on to the end: not the worker
        os._exit(0)
    send({"done": True})  # the runner ends the lesson's leftover threads and processes
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
