"""The runtime side of claims: what instrumented lesson code calls while it runs.

A probe never raises into the lesson: whatever it cannot decide becomes ``unchecked``.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from harness import behaviours
from harness.claims import Claim
from harness.formulas import compare, evaluate, parse_formula
from harness.lesson import Example, Fence
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


def _names(text: str) -> list[str]:
    """Every identifier in a formula's text: the formula's names are among them."""
    return re.findall(r"[A-Za-z_]\w*", text)


def _int(value: object) -> int | None:
    return value if type(value) is int else None


class Probe:
    """Checks claims for one lesson run and tallies a verdict per claim line."""

    def __init__(
        self, claims: Sequence[Claim], filename: str, fences: Sequence[Fence] = ()
    ) -> None:
        self.claims = {claim.line: claim for claim in claims}
        self.filename = filename
        self.tallies: dict[int, ClaimResult] = {}
        self.block_names: frozenset[str] = frozenset()
        self.operands: dict[int, dict[int, object]] = {}
        self.states: dict[int, list[Any]] = {}  # call behaviours: what ``before`` saw
        self.marks: list[int] = []  # doctest outputs: where stdout stood before the example
        outputs: dict[int, Example] = {}  # each doctest output by its line: linear in both
        for fence in fences:
            for example in reversed(fence.examples):  # the first of a line wins, as example_of
                outputs[example.want_line] = example
        self.examples = {line: outputs[line] for line in self.claims if line in outputs}

    # called by instrumented code -------------------------------------------------------
    def value(self, line: int, value: object, bindings: dict[str, int]) -> object:
        try:
            frame = sys._getframe(1)
            kind = self.claims[line].kind
            if kind == "formula":
                self._formula(line, value, frame)
            elif kind == "behaviour":
                self._behaviour(line, value)
            else:
                shape, why = shape_of(value)
                self._check(line, 0, shape, why, bindings, frame, "")
        except Exception as error:
            self._record(line, "unchecked", "", "", f"the harness could not check: {error!r}")
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
        self, line: int, phase: int, names: tuple[str, ...], bindings: dict[str, int]
    ) -> None:
        try:
            frame = sys._getframe(1)
            kind = self.claims[line].kind
            if kind == "behaviour":
                self._around_call(line, phase, names, frame)
                return
            if kind == "output":
                self._output(line, phase)
                return
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

    # formulas, behaviours, doctest outputs ---------------------------------------------
    def _formula(self, line: int, value: object, frame: FrameType) -> None:
        claim = self.claims[line]
        formula = parse_formula(claim.text, frozenset(_names(claim.text)))
        if formula is None:  # pragma: no cover - the claim was found by parsing this text
            raise ValueError("the formula does not parse")
        values: dict[str, object] = {}
        for name in formula.names:
            found, named = self._resolve(name, frame)
            if not found:
                self._record(line, "unchecked", claim.text, "", f"no variable named {name} here")
                return
            values[name] = named
        import torch

        if not isinstance(value, torch.Tensor | int | float) or isinstance(value, bool):
            why = f"a {type(value).__name__} is not a tensor or number to compare with a formula"
            self._record(line, "unchecked", claim.text, "", why)
            return
        expected = evaluate(formula, values, value)
        equal, actual, why = compare(formula, value, expected)
        shown = f"{claim.text} element-wise"
        if equal:
            self._record(line, "passed", shown, shown, "")
        else:
            self._record(line, "failed", shown, actual, f"expected {shown}, got {why}")

    def _outcome(self, line: int, outcome: behaviours.Outcome) -> None:
        self._record(line, outcome.verdict, outcome.expected, outcome.actual, outcome.message)

    def _behaviour(self, line: int, value: object) -> None:
        parts = behaviours.read(self.claims[line].text) or []
        given = self.operands.pop(line, {})
        context = behaviours.Context(
            operands=[given[i] for i in sorted(given)],
            later=lambda outcome: self._later(line, outcome),
        )
        for behaviour, phrase in parts:
            assert behaviour.check is not None
            outcome = behaviour.check(phrase, value, context)
            if outcome is not None:
                self._outcome(line, outcome)

    def _later(self, line: int, outcome: behaviours.Outcome) -> None:
        with contextlib.suppress(Exception):  # a hook never breaks the lesson's forward pass
            self._outcome(line, outcome)

    def _around_call(self, line: int, phase: int, names: tuple[str, ...], frame: FrameType) -> None:
        parts = behaviours.read(self.claims[line].text) or []
        found, owner = self._resolve(names[0], frame)
        if not found:
            if phase == 1:
                self._record(line, "unchecked", "", "", f"no variable named {names[0]} here")
            return
        if phase == 0:
            self.states[line] = [b.before(m, owner) if b.before else None for b, m in parts]
            return
        states = self.states.pop(line, [None] * len(parts))
        for (behaviour, phrase), state in zip(parts, states, strict=True):
            assert behaviour.after is not None
            self._outcome(line, behaviour.after(phrase, owner, state))

    def _output(self, line: int, phase: int) -> None:
        """A doctest example's output: what it printed, and its value's repr, as doctest."""
        import doctest

        out = sys.stdout
        if phase == 0:
            self.marks.append(out.tell())
            return
        start = self.marks.pop() if self.marks else 0
        got = out.getvalue()[start:] if hasattr(out, "getvalue") else ""
        example = self.examples[line]
        flags = 0
        for flag, on in example.options:
            flags = flags | flag if on else flags & ~flag
        checker = doctest.OutputChecker()
        want = example.want
        if checker.check_output(want, got, flags):
            self._record(line, "passed", want.strip(), got.strip(), "")
        else:
            self._record(
                line,
                "failed",
                want.strip(),
                got.strip(),
                f"expected output {want.strip()!r}, got {got.strip()!r}",
            )

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
