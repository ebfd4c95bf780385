"""The runtime side of claims: what instrumented lesson code calls while it runs.

The probe only dispatches: each claim's kind (``harness.claims.kinds``) checks what the
probe hands it, with the parsed form the claim carries. A probe never raises into the
lesson: whatever it cannot decide becomes ``unchecked``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from harness.claims import Claim, kinds
from harness.claims.kinds.output import OutputChecker
from harness.lesson import Fence
from harness.results import ClaimResult, Verdict
from harness.run.devices import uncounted


def _int(value: object) -> int | None:
    return value if type(value) is int else None


class Probe:
    """Checks claims for one lesson run and tallies a verdict per claim line."""

    def __init__(
        self, claims: Sequence[Claim], filename: str, fences: Sequence[Fence] = ()
    ) -> None:
        self.claims = {claim.line: claim for claim in claims}
        self.filename = filename
        self.fences = fences
        self._tallies: dict[int, ClaimResult] = {}
        self.block_names: frozenset[str] = frozenset()
        self.operands: dict[int, dict[int, object]] = {}
        self.checkers: dict[str, kinds.Checker] = {}  # by kind name, made when first needed

    @property
    def tallies(self) -> dict[int, ClaimResult]:
        """The verdict of each claim checked since the tallies were last reset; reading them
        settles the checks that waited for the end of the block (``Checker.settle``)."""
        for checker in list(self.checkers.values()):
            checker.settle()
        return self._tallies

    @tallies.setter
    def tallies(self, tallies: dict[int, ClaimResult]) -> None:
        for checker in self.checkers.values():
            checker.reset()
        self._tallies = tallies

    def _checker(self, claim: Claim) -> kinds.Checker:
        checker = self.checkers.get(claim.kind)
        if checker is None:
            checker = self.checkers[claim.kind] = kinds.of(claim).checker(self)
        return checker

    # called by instrumented code -------------------------------------------------------
    def value(self, line: int, value: object, bindings: dict[str, Any], phase: int = 0) -> object:
        try:
            claim = self.claims[line]
            with uncounted():
                self._checker(claim).value(claim, value, phase, bindings, sys._getframe(1))
        except Exception as error:
            self.record(line, Verdict.UNCHECKED, "", "", f"the harness could not check: {error!r}")
        return value

    @staticmethod
    def display(value: object) -> None:
        """An expression statement of a console session: its repr, as the console shows it."""
        if value is not None:
            print(repr(value))

    def operand(self, line: int, index: int, value: object) -> object:
        """Keep an operand of the claim's operation (evaluated before the operation)."""
        self.operands.setdefault(line, {})[index] = value
        return value

    def names(
        self, line: int, phase: int, names: tuple[str, ...], bindings: dict[str, Any]
    ) -> None:
        try:
            claim = self.claims[line]
            with uncounted():
                self._checker(claim).names(claim, phase, names, bindings, sys._getframe(1))
        except Exception as error:
            self.record(line, Verdict.UNCHECKED, "", "", f"the harness could not check: {error!r}")

    @contextlib.contextmanager
    def expecting(self, line: int) -> Iterator[None]:
        """Around a console statement whose expected output (at ``line``) is an exception or
        a warning (``kinds.output``)."""
        claim = self.claims.get(line)
        checker = self._checker(claim) if claim is not None else None
        if not isinstance(checker, OutputChecker):  # no expected output here: nothing to check
            yield
            return
        with checker.expecting(claim, line):
            yield

    # what the kinds' checks use ---------------------------------------------------------
    def record(self, line: int, verdict: str, expected: str, actual: str, message: str) -> None:
        tally = self._tallies.setdefault(line, ClaimResult(Verdict.NOT_RUN))
        tally.add(verdict, expected, actual, message)

    def checks(self, line: int) -> int:
        tally = self._tallies.get(line)
        return tally.checks if tally is not None else 0

    def put(
        self, line: int, verdict: str, expected: str, actual: str, message: str, checks: int
    ) -> None:
        self._tallies[line] = ClaimResult(verdict, expected, actual, message, checks)

    def resolve(self, dotted: str, frame: FrameType) -> tuple[bool, Any]:
        root, *attrs = dotted.split(".")
        scopes = (frame.f_locals, frame.f_globals, frame.f_builtins)
        for scope in scopes:
            if root in scope:
                value = scope[root]
                break
        else:
            return False, None
        for attr in attrs:
            try:
                value = getattr(value, attr)
            except AttributeError:
                return False, None
        return True, value

    def lookup(self, frame: FrameType) -> Callable[[str], int | None]:
        """Values a dimension name may take before binding freely: locals and self, no global."""
        at_top = frame.f_code.co_name == "<module>"
        local = frame.f_locals

        def lookup(name: str) -> int | None:
            if at_top:
                return _int(local.get(name)) if name in self.block_names else None
            found = _int(local.get(name))
            if found is None and "self" in local:
                try:
                    found = _int(getattr(local["self"], name))
                except Exception:
                    found = None
            return found

        return lookup

    def call_site(self, frame: FrameType) -> str:
        """`` (in the call from line N)`` for a claim inside a function."""
        if frame.f_code.co_name == "<module>":
            return ""
        outer: FrameType | None = frame.f_back
        line = None
        while outer is not None:  # through torch's frames too: the outermost lesson line
            if outer.f_code.co_filename == self.filename:
                line = outer.f_lineno
            outer = outer.f_back
        return f" (in the call from line {line})" if line is not None else ""
