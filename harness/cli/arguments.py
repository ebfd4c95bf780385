"""The values of ``harness``'s options, checked before anything runs (the project
configuration, ``harness.config``, checks its keys with the same functions)."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from harness.lesson.directives import MAX_TIME_LIMIT

DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "all")
MAX_MEMORY_LIMIT = 10**9  # MB: a petabyte


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N): this machine's share of the sorted lessons."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (2/4), not {text!r}")
    return int(k), int(n)


def parse_devices(text: str) -> list[str]:
    """A comma-separated list of known device names; an unknown one is an error naming them."""
    devices = [d.strip() for d in text.split(",") if d.strip()]
    if not devices:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of devices ({', '.join(DEVICES)}), not {text!r}"
        )
    unknown = [d for d in devices if d not in DEVICES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown device {unknown[0][:40]!r}: expected a comma-separated list of "
            f"{', '.join(DEVICES)}"
        )
    return devices


def parse_time_limit(text: str) -> float:
    """Seconds per block: a finite number above 0, at most a week (a zero limit runs nothing)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TIME_LIMIT:  # also nan and inf
        raise argparse.ArgumentTypeError(
            f"expected seconds above 0 and at most {MAX_TIME_LIMIT:g} (a week), not {text[:40]!r}"
        )
    return seconds


def parse_memory_limit(text: str) -> int:
    """Megabytes of data memory per worker: 0 (none) up to a petabyte, a whole number."""
    try:
        megabytes = int(text.strip().replace("_", ""))
    except ValueError:
        megabytes = -1
    if not 0 <= megabytes <= MAX_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected whole megabytes from 0 (no limit) to {MAX_MEMORY_LIMIT} (a petabyte), "
            f"not {text[:40]!r}"
        )
    return megabytes


def output_file(text: str) -> Path:
    """Where ``--json`` writes: a file (not a folder) whose folder exists or can be made."""
    return _writable(text, folder=False)


def output_folder(text: str) -> Path:
    """Where ``--report`` writes: a folder (not a file) that exists or can be made."""
    return _writable(text, folder=True)


def _writable(text: str, folder: bool) -> Path:
    path = Path(text)
    problem = _unwritable(path, folder)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return path


def _unwritable(path: Path, folder: bool) -> str:
    """Why nothing can be written at ``path``, or '': checked before anything runs, by making
    (and removing) a scratch folder where the first missing folder of the path would go."""
    if not str(path).strip() or "\0" in str(path):
        return "is not a path"
    if folder and path.exists() and not path.is_dir():
        return "is a file, not a folder"
    if not folder and path.is_dir():
        return "is a folder, not a file"
    where = path if folder else path.parent
    existing = where
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return f"cannot be written: {existing} is a file, not a folder"
    try:
        with tempfile.TemporaryDirectory(dir=existing, prefix=".harness-"):
            pass
    except OSError as error:
        return f"cannot be written: {error.strerror or error}"
    return ""
