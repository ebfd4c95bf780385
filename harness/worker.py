"""The worker process: ``python -m harness.worker FD`` runs one lesson on one device.

It reads ``{"path", "source", "device", "isolated", "only", "memory_limit", "protect"}`` as
JSON on stdin and writes one JSON line per event to file descriptor FD (not stdout, which the
lesson may write to directly): ``{"available": [...]}`` first, then ``{"start": LINE}`` before
a block and ``{"block": LINE, "result": {...}, "claims": {LINE: {...}}}`` after it, where
``claims`` holds the claim checks made while that block ran (its contribution, folded by the
runner).

Before the lesson runs, the worker limits its own data memory (``memory_limit`` MB,
``RLIMIT_DATA``; 0: none) and refuses, through an audit hook, Python-level writes into the
``protect`` folder (the one harness was started from), outside the temporary folder.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from typing import IO, Any

from harness import devices
from harness.claims import find_claims
from harness.execute import run_lesson
from harness.lesson import Fence, parse_lesson
from harness.results import BlockResult, ClaimResult

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# audit event -> positions of the paths it changes (docs.python.org: audit events table)
_CHANGES = {
    "os.chflags": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.link": (1,),
    "os.mkdir": (0,),
    "os.remove": (0,),
    "os.removexattr": (0,),
    "os.rename": (0, 1),
    "os.rmdir": (0,),
    "os.setxattr": (0,),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "shutil.chown": (0,),
    "shutil.copyfile": (1,),
    "shutil.copymode": (1,),
    "shutil.copystat": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (1,),
    "shutil.rmtree": (0,),
}


def limit_memory(megabytes: int) -> None:
    """Cap the data memory of this process: past it, allocations fail (``MemoryError``).

    ``RLIMIT_DATA``, not ``RLIMIT_AS``: it counts what the process writes (heap, anonymous
    mappings), not the address space that torch and CUDA reserve without using.
    """
    if megabytes > 0:
        size = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))


def write_guard(root: str) -> Callable[[str, tuple[Any, ...]], None]:
    """An audit hook refusing writes under ``root`` (except in the temporary folder)."""
    root = os.path.realpath(root)
    scratch = os.path.realpath(tempfile.gettempdir())

    def within(path: str, folder: str) -> bool:
        return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)

    def inside(path: Any) -> str | None:
        """The full path when it lies in ``root``; the innermost of the two folders wins."""
        if isinstance(path, int) or path is None:
            return None  # a file descriptor: opened before, or relative to one
        try:
            full = os.path.realpath(os.path.join(os.getcwd(), os.fsdecode(path)))
        except (TypeError, ValueError, OSError):
            return None
        if not within(full, root):
            return None
        if within(full, scratch) and len(scratch) > len(root):
            return None  # the temporary folder inside the repository: still the lesson's
        return full

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            paths = [path] if writes else []
        elif event in _CHANGES:
            paths = [args[i] for i in _CHANGES[event] if i < len(args)]
        else:
            return
        for path in paths:
            full = inside(path)
            if full is not None:
                raise PermissionError(
                    errno.EACCES,
                    f"lesson code may not write inside {root}, where harness was started "
                    "(a block runs in a temporary folder: write there)",
                    full,
                )

    return hook


def _guard_torch_save() -> None:
    """``torch.save(obj, "path")`` writes from C++, which no audit event sees: announce it."""
    serialization = sys.modules.get("torch.serialization")
    writer = getattr(serialization, "_open_zipfile_writer_file", None)
    if writer is None:
        return
    original = writer.__init__

    def announced(self: object, name: str, *args: Any, **kwargs: Any) -> None:
        sys.audit("open", name, "wb", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        original(self, name, *args, **kwargs)

    writer.__init__ = announced


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
        _guard_torch_save()
        sys.addaudithook(write_guard(request["protect"]))
    run_lesson(
        lesson,
        claims,
        request["device"],
        on_block,
        on_start,
        isolated=bool(request.get("isolated")),
        only=set(only) if isinstance(only, list) else only,
    )
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
