"""What one check of a claim decided: a verdict, what was expected and found, and why."""

from __future__ import annotations

from dataclasses import dataclass

from harness.results.status import Verdict


@dataclass(frozen=True)
class Outcome:
    verdict: str  # passed, failed or unchecked
    expected: str
    actual: str = ""
    message: str = ""


def passed(expected: str, actual: str = "") -> Outcome:
    return Outcome(Verdict.PASSED, expected, actual or expected)


def failed(expected: str, actual: str, why: str = "") -> Outcome:
    return Outcome(Verdict.FAILED, expected, actual, why or f"expected {expected}, got {actual}")


def unchecked(why: str) -> Outcome:
    return Outcome(Verdict.UNCHECKED, "", "", why)
