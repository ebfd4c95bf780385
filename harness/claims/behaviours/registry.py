"""The registry of named behaviours: comment phrases that promise something a check can see
while code runs.

Each entry of ``REGISTRY`` is a phrase pattern and a check. A *value* check looks at the value
the commented line produces (or, on a keyword-argument line, the object the call builds); a
*call* check looks at the object whose method the line calls, before and after the call
(``optimizer.zero_grad()  # Clear previous gradients``). A comment may join several value
phrases with commas (``# 32 samples, 10 classes``). To add a behaviour, write a function and
decorate it with ``@value(pattern)`` or ``@call(pattern)``; patterns match the whole phrase,
case-insensitively. Checks never change the lesson's random state: sample inputs come from
their own generator.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.claims.outcome import Outcome

NUMBER = r"(\d[\d,_]*)"


@dataclass
class Context:
    """What a value check may use besides the value: the operands of the line's operation,
    and ``later`` to report outcomes from a hook (every call of a layer)."""

    operands: list[Any] = field(default_factory=list)
    later: Callable[[Outcome], None] = lambda outcome: None


ValueCheck = Callable[[re.Match[str], Any, Context], Outcome | None]
Before = Callable[[re.Match[str], Any], Any]
After = Callable[[re.Match[str], Any, Any], Outcome]


@dataclass(frozen=True)
class Behaviour:
    name: str
    pattern: re.Pattern[str]
    place: Literal["value", "call"]
    check: ValueCheck | None = None
    before: Before | None = None
    after: After | None = None
    operands: bool = False
    when_called: bool = False  # checked at the first call of the layer built (a forward hook)


REGISTRY: list[Behaviour] = []


def value(
    pattern: str, operands: bool = False, when_called: bool = False
) -> Callable[[ValueCheck], ValueCheck]:
    def register(check: ValueCheck) -> ValueCheck:
        compiled = re.compile(pattern, re.IGNORECASE)
        behaviour = Behaviour(
            check.__name__, compiled, "value", check, operands=operands, when_called=when_called
        )
        REGISTRY.append(behaviour)
        return check

    return register


def call(pattern: str) -> Callable[[tuple[Before, After]], tuple[Before, After]]:
    def register(pair: tuple[Before, After]) -> tuple[Before, After]:
        name = getattr(pair[1], "__name__", pattern)
        compiled = re.compile(pattern, re.IGNORECASE)
        REGISTRY.append(Behaviour(name, compiled, "call", before=pair[0], after=pair[1]))
        return pair

    return register


@functools.cache  # probes read the same comment at every call (zero_grad in every step)
def read(text: str) -> list[tuple[Behaviour, re.Match[str]]] | None:
    """The behaviours a comment names, one per comma-separated phrase; None when any phrase
    is not a known behaviour, or value and call phrases are mixed."""
    found: list[tuple[Behaviour, re.Match[str]]] = []
    for phrase in re.split(r"\s*[,;]\s*(?=\D)", text.strip().rstrip(".")):
        for behaviour in REGISTRY:
            match = behaviour.pattern.fullmatch(phrase.strip())
            if match:
                found.append((behaviour, match))
                break
        else:
            return None
    if not found or len({b.place for b, _ in found}) > 1:
        return None
    return found


def number(text: str) -> int:
    return int(text.replace(",", "").replace("_", ""))


MAX_DIGITS = 18  # a count, size or parameter count past 10**18 is no tensor's


def oversized(found: list[tuple[Behaviour, re.Match[str]]]) -> str:
    """Why the numbers of a behaviour claim cannot be checked (one overflows), or ''."""
    for _behaviour, match in found:
        for group in match.groups():
            digits = re.sub(r"\D", "", (group or "").split(".")[0])
            if len(digits.lstrip("0")) > MAX_DIGITS:
                shown = group if len(group) <= 24 else f"{group[:12]}...{group[-6:]}"
                return (
                    f"the number {shown} has {len(digits):,} digits: too large to be a count "
                    f"(at most {MAX_DIGITS} are checked)"
                )
    return ""
