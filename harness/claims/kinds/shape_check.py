"""Checking shape claims while the lesson runs: the shape of each value a claim is about,
matched against the claim's shapes with the scope's symbolic dimensions (``bindings``).

Checks wait in ``pending`` until their block ends (``settle``): a scope's bindings are only
judged once every claim in it had its say."""

from __future__ import annotations

from types import FrameType

from harness.claims.kinds.base import Bindings, Checker, Kind, Run
from harness.claims.kinds.bindings import Check, Scope, Vote
from harness.claims.model import Claim
from harness.claims.place_shape import ANY
from harness.claims.shapes import Shape, format_dims, match, names_in
from harness.results.status import Verdict


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


def _source(claim: Claim, phase: int, name: str) -> str:
    """What a binding made by this check is read from: ``x.shape``."""
    if name:
        return f"{name}.shape"
    if len(claim.shapes) == 3:
        which = ("the left operand", "the right operand", "the result")[min(phase, 2)]
        return f"{which} of {claim.subject}"
    if len(claim.shapes) == 2 and phase == 0:
        return "the input of the statement"
    subject = claim.subject
    return subject if subject.endswith((".shape", ".size()")) else f"{subject}.shape"


class ShapeChecker(Checker):
    def __init__(self, kind: Kind, run: Run) -> None:
        super().__init__(kind, run)
        self.inputs: dict[int, list[tuple[str, tuple[int, ...]]]] = {}  # transitions' inputs
        # checks waiting for the end of their block; (line, verdict, expected, message, shape)
        # for those no binding can change
        self.pending: list[Check | tuple[int, str, str, str, tuple[int, ...] | None]] = []

    def value(
        self, claim: Claim, value: object, phase: int, bindings: Bindings, frame: FrameType
    ) -> None:
        self._input_check(claim, bindings, frame)
        shape, why = shape_of(value)
        self._check(claim, phase, shape, why, bindings, frame, "")

    def names(
        self,
        claim: Claim,
        phase: int,
        names: tuple[str, ...],
        bindings: Bindings,
        frame: FrameType,
    ) -> None:
        if names and names[0] == ANY:  # a transition's input: checked with its result
            self._inputs_before(claim, names, frame)
            return
        self._input_check(claim, bindings, frame)
        for name in names:
            found, value = self.run.resolve(name, frame)
            if not found:
                why = f"no variable named {name} at this point"
                self._check(claim, phase, None, why, bindings, frame, name)
                continue
            shape, why = shape_of(value)
            self._check(claim, phase, shape, why, bindings, frame, name)

    def _inputs_before(self, claim: Claim, names: tuple[str, ...], frame: FrameType) -> None:
        """A transition's candidate inputs, looked up before its statement runs; checked
        with its result (``_input_check``), with the inner values the statement computes."""
        found: list[tuple[str, tuple[int, ...]]] = []
        for name in names:
            if name == ANY:
                continue
            ok, value = self.run.resolve(name.removeprefix(ANY), frame)
            shape, _ = shape_of(value) if ok and not isinstance(value, tuple) else (None, "")
            if shape is not None:
                found.append((name.removeprefix(ANY), shape))
        self.inputs[claim.line] = found
        self.run.operands.pop(claim.line, None)

    def _input_check(self, claim: Claim, bindings: Bindings, frame: FrameType) -> None:
        """The input of a transition: passed when any candidate has the claimed shape."""
        line = claim.line
        found = self.inputs.pop(line, None)
        if found is None:
            return
        inner = self.run.operands.pop(line, {})
        for index in sorted(inner):
            shape, _ = shape_of(inner[index])
            if shape is not None and not isinstance(inner[index], tuple):
                found.append(("", shape))
        if not found:
            why = "no input of the statement holds a tensor"
            self._check(claim, 0, None, why, bindings, frame, "")
            return
        values = dict(Scope.of(bindings).values)
        for _, shape in found:
            trial = match(claim.shapes[0], shape, dict(values), self.run.lookup(frame))
            if trial.verdict == Verdict.PASSED:
                self._check(claim, 0, shape, "", bindings, frame, "")
                return
        self._check(claim, 0, found[-1][1], "", bindings, frame, "")

    def _check(
        self,
        claim: Claim,
        phase: int,
        shape: tuple[int, ...] | None,
        why: str,
        bindings: Bindings,
        frame: FrameType,
        name: str,
    ) -> None:
        line = claim.line
        when = ("before line", "after line")[phase] if len(claim.shapes) == 2 else ""
        prefix = f"{name}: " if name and len(claim.subject.split(",")) > 1 else ""
        if when:
            prefix += f"{when} {self._statement_line(claim, phase)}: "
        elif len(claim.shapes) == 3:  # (2, 3) @ (3, 4) -> (2, 4)
            prefix += ("left operand: ", "right operand: ", "result: ")[min(phase, 2)]
        expected: Shape = claim.shapes[min(phase, len(claim.shapes) - 1)]
        if shape is None:
            self.pending.append((line, Verdict.UNCHECKED, expected.text, prefix + why, None))
            return
        scope = Scope.of(bindings)
        lookup = self.run.lookup(frame)
        names = names_in(expected)
        if not names:  # no name to bind: nothing a later claim could change
            result = match(expected, shape, scope.values, lookup)
            message = prefix + result.message + self.run.call_site(frame) if result.message else ""
            self.pending.append((line, result.verdict, result.expected, message, shape))
            return
        scoped = {dim: lookup(dim) for dim in names}
        result = match(expected, shape, scope.values, scoped.get, scope.sources)
        # passed: it agrees with every binding, and reads as they do; else what it says
        # alone, without the bindings it may disagree with
        passed = result.verdict == Verdict.PASSED
        alone = result if passed else match(expected, shape, {}, scoped.get)
        source = _source(claim, phase, name)
        for dim in names:  # a claim at odds with itself has no say
            if dim in alone.env and scoped[dim] is None and alone.verdict != Verdict.FAILED:
                scope.vote(dim, Vote(line, alone.env[dim], source))
        suffix = self.run.call_site(frame)
        check = Check(line, scope, expected, shape, result, alone, scoped, prefix, suffix)
        self.pending.append(check)

    @staticmethod
    def _statement_line(claim: Claim, phase: int) -> int:
        return claim.places[phase].line if phase < len(claim.places) else claim.line

    def settle(self) -> None:
        pending, self.pending = self.pending, []
        for check in pending:
            if isinstance(check, Check):
                self.run.record(check.line, *check.settled())
            else:
                line, verdict, expected, message, shape = check
                actual = format_dims(shape) if shape is not None else ""
                self.run.record(line, verdict, expected, actual, message)

    def reset(self) -> None:
        self.pending = []
