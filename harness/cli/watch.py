"""``harness watch``: check, then check again each time a lesson (or its configuration) is saved.

Each round is an ordinary ``harness check`` with the same options and the same messages; the
cache answers what did not change, so only what an edit touched runs again (in reader order,
a lesson up to its last edited block). The workers are forked from a warm process that
imported torch once (``harness.run.warm``): a fresh one per lesson and device each round, so
nothing a lesson left in a worker reaches the next round. Ctrl-C between rounds ends the
watch (exit 130); during a round it ends the round as ``harness check`` does.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from harness.cli.check import check
from harness.run import warm

CONFIG_FILES = ("harness.toml", "pyproject.toml")  # a project configuration changes results too


def stamps(paths: Iterable[str]) -> dict[Path, tuple[int, int]]:
    """(modification time, size) of every lesson under ``paths`` and every configuration file
    beside them: what a save changes."""
    found: dict[Path, tuple[int, int]] = {}
    for text in paths:
        path = Path(text)
        files = sorted(path.rglob("*.md")) if path.is_dir() else [path]
        folders = {file.parent for file in files} | ({path} if path.is_dir() else set())
        files += [folder / name for folder in sorted(folders) for name in CONFIG_FILES]
        for file in files:
            try:
                status = file.stat()
            except OSError:
                continue  # not there (yet): its appearance is a change
            found[file] = (status.st_mtime_ns, status.st_size)
    return found


def watch(args: argparse.Namespace) -> int:
    """Check, wait for a save, check again; ``--runs N`` stops after N checks (for scripts)."""
    with warm.started():
        return _rounds(args)


def _rounds(args: argparse.Namespace) -> int:
    rounds = 0
    while True:
        seen = stamps(args.paths)
        code = check(args)
        rounds += 1
        if code >= 128 or (args.runs and rounds >= args.runs):
            return code
        print(f"harness watch: waiting for a change to {' '.join(args.paths)} (Ctrl-C ends)")
        sys.stdout.flush()
        try:
            while stamps(args.paths) == seen:
                time.sleep(args.interval)
        except KeyboardInterrupt:
            print("harness watch: ended", file=sys.stderr)
            return 130
