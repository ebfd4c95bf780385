"""The worker process: ``python -m harness.worker FD`` runs one lesson on one device.

It reads ``{"path", "source", "device"}`` as JSON on stdin and writes one JSON line per event
to file descriptor FD (not stdout, which the lesson may write to directly):
``{"start": LINE}`` before a block, ``{"block": LINE, "result": {...}}`` after it, and
``{"claims": {LINE: {...}}}`` at the end.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from typing import IO

from harness import devices
from harness.claims import find_claims
from harness.execute import run_lesson
from harness.lesson import Fence, parse_lesson
from harness.results import BlockResult, ClaimResult


def main(argv: list[str]) -> int:
    events: IO[str] = os.fdopen(int(argv[0]), "w", buffering=1, encoding="utf-8")

    def send(event: dict[str, object]) -> None:
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

    def on_block(fence: Fence, result: BlockResult, tallies: dict[int, ClaimResult]) -> None:
        send({"block": fence.line, "result": asdict(result)})
        # every block: the verdicts so far survive a later block that kills the process
        send({"claims": {str(line): asdict(tally) for line, tally in tallies.items()}})

    def on_start(fence: Fence) -> None:
        send({"start": fence.line})

    run_lesson(
        lesson,
        claims,
        request["device"],
        on_block,
        on_start,
        isolated=bool(request.get("isolated")),
        only=request.get("only"),
    )
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
