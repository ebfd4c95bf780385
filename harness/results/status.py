"""Block statuses and claim verdicts, and the one ranking both are compared by.

Both are ``enum.StrEnum``: a member is its string (``Status.PASSED == "passed"``), so the
JSON results are written as before and code that still compares strings keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """What happened to one block on one device."""

    PASSED = "passed"
    FAILED = "failed"
    NEEDS = "needs"  # stopped for what this machine lacks (a package, cuda, the network)
    SKIPPED = "skipped"  # not run by choice: a directive, an absent device, a bash fence
    UNSUPPORTED = "unsupported"
    NOT_RUN = "not-run"  # never reached (its worker ended before it)


class Verdict(StrEnum):
    """What one claim's checks on one device found."""

    PASSED = "passed"
    FAILED = "failed"
    UNCHECKED = "unchecked"  # understood, not decidable (a random value, a missing shape)
    NOT_RUN = "not-run"  # its line was never reached


# The one ranking: the worse of two outcomes is the higher. Statuses and verdicts share it
# (the report ranks a block's devices and a claim's devices with it; a claim's checks fold
# by it: failed beats unchecked beats passed beats not-run).
RANK: dict[str, int] = {
    Status.NOT_RUN: 0,
    Status.SKIPPED: 1,
    Status.PASSED: 2,
    Status.NEEDS: 3,
    Status.UNSUPPORTED: 3,
    Verdict.UNCHECKED: 3,
    Status.FAILED: 4,
}


def rank(state: str) -> int:
    """How bad ``state`` is (a status or a verdict); an unknown one ranks as not-run."""
    return RANK.get(state, 0)


def worst(states: Iterable[str], default: str = Status.NOT_RUN) -> str:
    """The worst of ``states`` (the first of equals), ``default`` when there are none."""
    found = list(states)
    return max(found, key=rank) if found else default


def status_of(value: object) -> Status | str:
    """``value`` as a ``Status`` when it names one; other text as it is (a newer harness's)."""
    text = "" if value is None else str(value)
    try:
        return Status(text)
    except ValueError:
        return text


def verdict_of(value: object) -> Verdict | str:
    """``value`` as a ``Verdict`` when it names one; other text as it is."""
    text = "" if value is None else str(value)
    try:
        return Verdict(text)
    except ValueError:
        return text
