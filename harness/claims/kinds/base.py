"""The protocol of a claim kind: how it reads a comment, places the claim, checks a value.

A kind reads a comment (``read(comment, reading) -> parsed | None``); the first kind that
reads it makes the claim (``place``: where in the AST a probe looks), which carries what the
kind read (``Claim.parsed``), so nothing reads claim text again at run time. While the lesson
runs, the probe hands each value it sees to the claim's kind (``checker``: by default, each
value goes to ``check(value, parsed) -> Outcome``); a claim no check reached is not run, and
the kind may say why (``not_run_reason``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from harness.claims.lineage import Lazy
from harness.claims.model import Claim, Comment
from harness.claims.outcome import Outcome
from harness.claims.place import Index, value_claim
from harness.lesson import Fence
from harness.results.status import Verdict

Bindings = dict[str, Any]  # a scope's symbolic dimensions (see ``kinds.bindings``)


@dataclass
class Reading:
    """What a kind may use to read and place one comment of a block."""

    fence: Fence
    index: Index | None  # the block's statements; None when it does not parse
    known: frozenset[str]  # every name the lesson binds
    lineage: Lazy  # where printed values come from, made when first asked
    following: list[Comment]  # the comments after this one in the block
    consumed: set[int]  # lines of comments a claim above took (an output's further lines)

    @property
    def block(self) -> int:
        return self.fence.line


class Run(Protocol):
    """What a lesson run's probe offers the checks of every kind."""

    filename: str
    fences: Sequence[Fence]
    block_names: frozenset[str]
    operands: dict[int, dict[int, object]]  # a claim's operands, kept by ``probe.operand``

    def record(self, line: int, verdict: str, expected: str, actual: str, message: str) -> None:
        """Fold one check's outcome into the tally of the claim at ``line``."""

    def checks(self, line: int) -> int:
        """How many checks the tally of the claim at ``line`` holds."""

    def put(
        self, line: int, verdict: str, expected: str, actual: str, message: str, checks: int
    ) -> None:
        """Replace the tally of the claim at ``line`` (a verdict made of every check so far)."""

    def resolve(self, dotted: str, frame: FrameType) -> tuple[bool, Any]:
        """The value of ``x`` or ``x.attr`` in ``frame``: (found, value)."""

    def lookup(self, frame: FrameType) -> Callable[[str], int | None]:
        """Values a dimension name may take before binding freely (locals, ``self``)."""

    def call_site(self, frame: FrameType) -> str:
        """`` (in the call from line N)`` for a check inside a function, else ''."""


class Checker:
    """A kind's checks during one lesson run (and what they remember between probes).

    ``value``: a probe saw the value of the claim's expression (``phase``: which of its
    places); ``names``: a probe before or after a statement, with the names to look up.
    """

    def __init__(self, kind: Kind, run: Run) -> None:
        self.kind = kind
        self.run = run

    def value(
        self, claim: Claim, value: object, phase: int, bindings: Bindings, frame: FrameType
    ) -> None:
        outcome = self.kind.check(value, claim.parsed)
        if outcome is not None:
            self.outcome(claim.line, outcome)

    def names(
        self,
        claim: Claim,
        phase: int,
        names: tuple[str, ...],
        bindings: Bindings,
        frame: FrameType,
    ) -> None:
        for name in names:
            found, value = self.run.resolve(name, frame)
            if found:
                self.value(claim, value, phase, bindings, frame)
            else:
                self.run.record(
                    claim.line, Verdict.UNCHECKED, "", "", f"no variable named {name} here"
                )

    def outcome(self, line: int, outcome: Outcome) -> None:
        self.run.record(line, outcome.verdict, outcome.expected, outcome.actual, outcome.message)

    def settle(self) -> None:
        """The block ended (its tallies are read): record what waited for the whole block."""

    def reset(self) -> None:
        """The tallies start again (a new block, after a prelude): forget what waited."""


class Kind:
    """One kind of claim. Subclass it, set ``name``, and implement ``read`` and ``check`` (or
    ``place`` and ``checker`` for claims that look at more than the value on their line);
    then ``kinds.register`` it."""

    name = ""

    def read(self, comment: Comment, reading: Reading) -> object | None:
        """What the comment claims, parsed; None when it is not a claim of this kind."""
        return None

    def place(self, comment: Comment, parsed: object, reading: Reading) -> Claim:
        """The claim, with where it applies: by default the value its line produces."""
        return value_claim(comment, self.name, reading.index, reading.block, parsed=parsed)

    def unusable(self, parsed: object) -> str:
        """Why a claim read this way cannot be checked at all ('' when it can)."""
        return ""

    def check(self, value: object, parsed: object) -> Outcome | None:
        """The outcome of one value the claim is about (None: nothing to record yet)."""
        return None

    def not_run_reason(self, claim: Claim) -> str:
        """Why the claim was never checked, when its kind knows better than its block."""
        return ""

    def checked_later(self, claim: Claim) -> bool:
        """Whether the claim may be checked after its block ended (a hook left on what its
        line built, checked where a later block calls it): the cache keys it with them."""
        return False

    def checker(self, run: Run) -> Checker:
        return Checker(self, run)
