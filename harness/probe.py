"""The runtime side of claims: what instrumented lesson code calls while it runs.

A probe never raises into the lesson: whatever it cannot decide becomes ``unchecked``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from harness.claims import Claim
from harness.results import ClaimResult
from harness.shapes import Shape, format_dims, match


def shape_of(value: object) -> tuple[tuple[int, ...] | None, str]:
    """The shape of a tensor-like value (or a ``torch.Size``), or why there is none."""
    if isinstance(value, tuple) and all(type(d) is int for d in value):
        return tuple(value), ""
    shape = getattr(value, "shape", None)
    if shape is not None:
        try:
            return tuple(int(d) for d in shape), ""
        except (TypeError, ValueError):
            return None, f"its shape {shape!r} is not a list of integers"
    if isinstance(value, tuple | list):
        return None, f"the value is a {type(value).__name__} of {len(value)}, not one tensor"
    return None, f"the value is a {type(value).__name__}, which has no shape"


def _int(value: object) -> int | None:
    return value if type(value) is int else None


class Probe:
    """Checks claims for one lesson run and tallies a verdict per claim line."""

    def __init__(self, claims: Sequence[Claim], filename: str) -> None:
        self.claims = {claim.line: claim for claim in claims}
        self.filename = filename
        self.tallies: dict[int, ClaimResult] = {}
        self.block_names: frozenset[str] = frozenset()

    # called by instrumented code -------------------------------------------------------
    def value(self, line: int, value: object, bindings: dict[str, int]) -> object:
        try:
            frame = sys._getframe(1)
            shape, why = shape_of(value)
            self._check(line, 0, shape, why, bindings, frame, "")
        except Exception as error:
            self._record(line, "unchecked", "", "", f"the harness could not check: {error!r}")
        return value

    def names(
        self, line: int, phase: int, names: tuple[str, ...], bindings: dict[str, int]
    ) -> None:
        try:
            frame = sys._getframe(1)
            for name in names:
                found, value = self._resolve(name, frame)
                if not found:
                    why = f"no variable named {name} at this point"
                    self._check(line, phase, None, why, bindings, frame, name)
                    continue
                shape, why = shape_of(value)
                self._check(line, phase, shape, why, bindings, frame, name)
        except Exception as error:
            self._record(line, "unchecked", "", "", f"the harness could not check: {error!r}")

    # checking --------------------------------------------------------------------------
    def _check(
        self,
        line: int,
        phase: int,
        shape: tuple[int, ...] | None,
        why: str,
        bindings: dict[str, int],
        frame: FrameType,
        name: str,
    ) -> None:
        claim = self.claims[line]
        when = ("before line", "after line")[phase] if len(claim.shapes) > 1 else ""
        prefix = f"{name}: " if name and len(claim.subject.split(",")) > 1 else ""
        if when:
            prefix += f"{when} {self._statement_line(claim, phase)}: "
        expected: Shape = claim.shapes[min(phase, len(claim.shapes) - 1)]
        if shape is None:
            self._record(line, "unchecked", expected.text, "", prefix + why)
            return
        result = match(expected, shape, bindings, self._lookup(frame))
        message = result.message
        if message:
            message = prefix + message + self._call_site(frame)
        self._record(line, result.verdict, result.expected, format_dims(shape), message)

    @staticmethod
    def _statement_line(claim: Claim, phase: int) -> int:
        return claim.places[phase].line if phase < len(claim.places) else claim.line

    def _record(self, line: int, verdict: str, expected: str, actual: str, message: str) -> None:
        tally = self.tallies.setdefault(line, ClaimResult("not-run"))
        tally.add(verdict, expected, actual, message)

    def _resolve(self, dotted: str, frame: FrameType) -> tuple[bool, Any]:
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

    def _lookup(self, frame: FrameType) -> Callable[[str], int | None]:
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

    def _call_site(self, frame: FrameType) -> str:
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
