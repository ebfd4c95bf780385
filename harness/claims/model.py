"""What a claim is: one promise at one lesson line, where a probe looks, and the comments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.claims.shapes import Shape


@dataclass(frozen=True)
class Wrap:
    """Look at the value of the expression at this position (lesson lines, block columns).

    ``role``: ``value`` is what the claim is about; ``operand`` (number ``index``) is kept
    for the claim's check, as the operands of ``x + y  # Element-wise addition``.
    """

    line: int
    col: int
    end_line: int
    end_col: int
    role: Literal["value", "operand"] = "value"
    index: int = 0

    @property
    def position(self) -> tuple[int, int, int, int]:
        return (self.line, self.col, self.end_line, self.end_col)


@dataclass(frozen=True)
class Insert:
    """Look up ``names`` just before or after the statement that starts at ``line``/``col``."""

    line: int
    col: int
    where: Literal["before", "after"]
    names: tuple[str, ...]
    phase: int = 0


Placement = Wrap | Insert


@dataclass(frozen=True)
class Claim:
    line: int
    text: str
    kind: str
    subject: str
    block: int
    shapes: tuple[Shape, ...] = ()
    places: tuple[Placement, ...] = ()
    reason: str = ""  # set when the claim is understood but cannot be checked
    source: Literal["comment", "docstring", "doctest"] = "comment"
    note: str = ""  # printed values: why a mismatch is unchecked, not failed (random values)
    # what its kind read in the text (``kinds``), read once where the claim is found: never
    # part of its identity (repr, equality), as a cache key is made of its repr
    parsed: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Comment:
    line: int
    col: int
    text: str
    trailing: bool
    hint: str = field(default="", compare=False, repr=False)  # a near-shape: what was meant
