"""The behaviour kind: phrases of the registry of named behaviours (``behaviours``):
``# 32 samples, 10 classes`` about a value, ``# Clear previous gradients`` about a call, a
parameter count on a line of its own about the last module built."""

from __future__ import annotations

import contextlib
import re
from types import FrameType
from typing import Any

from harness.claims import behaviours
from harness.claims.kinds.base import Bindings, Checker, Kind, Reading, Run
from harness.claims.model import Claim, Comment
from harness.claims.outcome import Outcome
from harness.claims.place import call_claim, value_claim
from harness.claims.place_count import COUNTED, COUNTS, count_claim
from harness.results.status import Verdict

Phrases = tuple[tuple[behaviours.Behaviour, re.Match[str]], ...]


def _phrases(parsed: object) -> Phrases:
    assert isinstance(parsed, tuple)
    return parsed


class BehaviourKind(Kind):
    name = "behaviour"

    def read(self, comment: Comment, reading: Reading) -> Phrases | None:
        found = behaviours.read(comment.text)
        if found is None:
            return None
        if not comment.trailing and any(b.name not in COUNTS for b, _ in found):
            return None  # on a line of its own, only a count: Total: 2,359,296 parameters
        return tuple(found)

    def place(self, comment: Comment, parsed: object, reading: Reading) -> Claim:
        phrases = _phrases(parsed)
        index, block = reading.index, reading.block
        if not comment.trailing:
            return count_claim(comment, self.name, index, block, reading.lineage, parsed)
        if phrases[0][0].place == "call":
            return call_claim(comment, self.name, index, block, parsed)
        operands = any(b.operands for b, _ in phrases)
        return value_claim(
            comment, self.name, index, block, parsed=parsed, operands=operands, built=True
        )

    def unusable(self, parsed: object) -> str:
        return behaviours.oversized(list(_phrases(parsed)))

    def not_run_reason(self, claim: Claim) -> str:
        phrases = claim.parsed if isinstance(claim.parsed, tuple) else ()
        if any(b.when_called for b, _ in phrases):
            return "the layer built on this line was never called (or the line never ran)"
        return ""

    def checked_later(self, claim: Claim) -> bool:
        phrases = claim.parsed if isinstance(claim.parsed, tuple) else ()
        return any(b.when_called for b, _ in phrases)

    def checker(self, run: Run) -> Checker:
        return BehaviourChecker(self, run)


class BehaviourChecker(Checker):
    def __init__(self, kind: Kind, run: Run) -> None:
        super().__init__(kind, run)
        self.states: dict[int, list[Any]] = {}  # call behaviours: what ``before`` saw

    def value(
        self, claim: Claim, value: object, phase: int, bindings: Bindings, frame: FrameType
    ) -> None:
        line = claim.line
        given = self.run.operands.pop(line, {})
        context = behaviours.Context(
            operands=[given[i] for i in sorted(given)],
            later=lambda outcome: self._later(line, outcome),
        )
        for behaviour, phrase in _phrases(claim.parsed):
            assert behaviour.check is not None
            outcome = behaviour.check(phrase, value, context)
            if outcome is not None:
                self.outcome(line, outcome)

    def names(
        self,
        claim: Claim,
        phase: int,
        names: tuple[str, ...],
        bindings: Bindings,
        frame: FrameType,
    ) -> None:
        if phase == 3:
            self._last_module(claim, names, frame)
        else:
            self._around_call(claim, phase, names, frame)

    def _last_module(self, claim: Claim, names: tuple[str, ...], frame: FrameType) -> None:
        """A count on a line of its own: the first of ``names`` (latest first) that holds a
        module, or a count computed with ``numel`` (``int:`` names)."""
        import torch

        line = claim.line
        for modules in (True, False):  # a module first, else a count computed before
            for name in names:
                counted = name.startswith(COUNTED)
                found, value = self.run.resolve(name.removeprefix(COUNTED), frame)
                if not found or isinstance(value, torch.nn.Module) != modules:
                    continue
                if modules or (counted and type(value) is int):
                    shown = name.removeprefix(COUNTED)
                    for behaviour, phrase in _phrases(claim.parsed):
                        assert behaviour.check is not None
                        outcome = behaviour.check(phrase, value, behaviours.Context())
                        if outcome is not None:
                            why = f"{outcome.message} ({shown})" if outcome.message else ""
                            self.run.record(
                                line, outcome.verdict, outcome.expected, outcome.actual, why
                            )
                    return
        shown = ", ".join(n.removeprefix(COUNTED) for n in names[:5])
        why = f"none of {shown} holds a module here: which module's parameters are counted?"
        self.run.record(line, Verdict.UNCHECKED, "", "", why)

    def _later(self, line: int, outcome: Outcome) -> None:
        with contextlib.suppress(Exception):  # a hook never breaks the lesson's forward pass
            self.outcome(line, outcome)

    def _around_call(
        self, claim: Claim, phase: int, names: tuple[str, ...], frame: FrameType
    ) -> None:
        parts = _phrases(claim.parsed)
        line = claim.line
        found, owner = self.run.resolve(names[0], frame)
        if not found:
            if phase == 1:
                self.run.record(
                    line, Verdict.UNCHECKED, "", "", f"no variable named {names[0]} here"
                )
            return
        if phase == 0:
            self.states[line] = [b.before(m, owner) if b.before else None for b, m in parts]
            return
        states = self.states.pop(line, [None] * len(parts))
        for (behaviour, phrase), state in zip(parts, states, strict=True):
            assert behaviour.after is not None
            self.outcome(line, behaviour.after(phrase, owner, state))


BEHAVIOUR = BehaviourKind()
