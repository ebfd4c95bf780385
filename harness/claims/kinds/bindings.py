"""Symbolic dimensions of one scope: what each name is bound to, by which claim, and what
every claim that names it says it is.

A scope is one call of a function that holds a claim, or one block at the top level: the
``__harness_bindings__`` dict the instrumented code passes to each probe, where the scope is
kept under a key no name can have. The first claim that names a dimension binds it; when a
later claim disagrees, the value most claims agree on wins (a tie: the first binding), and the
claims that disagree with it fail, naming the line and the value each binding came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.claims.shapes import Match, Shape, format_dims, match, names_in
from harness.results.status import Verdict

KEY = ""  # where the scope is kept in the bindings dict: no name is empty
MAX_SHOWN = 3  # lines that agree with a binding, named in a message


@dataclass(frozen=True)
class Vote:
    """What one claim says a name is: its own reading of the shape it saw."""

    line: int
    value: int
    source: str  # x.shape


@dataclass
class Scope:
    values: dict[str, int] = field(default_factory=dict)  # what later claims are checked with
    sources: dict[str, str] = field(default_factory=dict)  # name -> bound at line 40 from x.shape
    votes: dict[str, list[Vote]] = field(default_factory=dict)
    counted: dict[str, tuple[int, str] | None] = field(default_factory=dict)  # majorities

    @staticmethod
    def of(bindings: dict[str, Any]) -> Scope:
        scope = bindings.get(KEY)
        if not isinstance(scope, Scope):
            scope = bindings[KEY] = Scope()
        return scope

    def vote(self, name: str, vote: Vote) -> None:
        self.votes.setdefault(name, []).append(vote)
        self.counted.pop(name, None)
        if name not in self.sources and self.values.get(name) == vote.value:
            self.sources[name] = f"bound at line {vote.line} from {vote.source}"

    def majority(self, name: str) -> tuple[int, str] | None:
        """The value most claims (distinct lines) give ``name``, the first given on a tie, and
        where it was bound (and which other lines agree)."""
        if name not in self.counted:
            self.counted[name] = self._count(name)
        return self.counted[name]

    def _count(self, name: str) -> tuple[int, str] | None:
        votes = self.votes.get(name)
        if not votes:
            return None
        lines: dict[int, list[int]] = {}
        for vote in votes:
            agreeing = lines.setdefault(vote.value, [])
            if vote.line not in agreeing:
                agreeing.append(vote.line)
        value = max(lines, key=lambda v: len(lines[v]))  # the first of equals: insertion order
        first = next(v for v in votes if v.value == value)
        source = f"bound at line {first.line} from {first.source}"
        others = [line for line in lines[value] if line != first.line]
        if others:
            said = "line {} also says" if len(others) == 1 else "lines {} also say"
            shown = ", ".join(map(str, others[:MAX_SHOWN]))
            if len(others) > MAX_SHOWN:
                shown += f" and {len(others) - MAX_SHOWN} more"
            source += ", as " + said.format(shown)
        return value, source


@dataclass
class Check:
    """One check of a shape claim in a scope, kept until its block ends: then the scope's
    votes are all known, and a claim that disagrees with the majority is the one that fails."""

    line: int
    scope: Scope
    shape: Shape
    actual: tuple[int, ...]
    result: Match  # as checked at the time, against the bindings made so far
    alone: Match  # as the claim reads alone: what it says each name is
    scoped: dict[str, int | None]  # what each name held in scope (locals, self)
    prefix: str
    suffix: str  # (in the call from line N)

    def settled(self) -> tuple[str, str, str, str]:
        """(verdict, expected, actual, message): against the values most claims agree on
        when this claim disagrees with them, or when it failed only by disagreeing with a
        binding that the others overruled; else as checked at the time."""
        if self.alone.verdict == Verdict.FAILED:  # at odds with itself: judged as it was
            return self._shown(self.result)
        named = names_in(self.shape)
        votes = {
            n: self.alone.env[n] for n in named if n in self.alone.env and self.scoped[n] is None
        }
        winners = {n: self.scope.majority(n) for n in votes}
        odd = any(w is not None and w[0] != votes[n] for n, w in winners.items())
        overruled = self.result.verdict == Verdict.FAILED  # only by a binding: it agrees alone
        result = self.result
        if odd or overruled:
            env = {n: v for n, v in self.scope.values.items() if n in named}
            env.update({n: w[0] for n, w in winners.items() if w is not None})
            sources = {n: w[1] for n, w in winners.items() if w is not None}
            lookup: Callable[[str], int | None] = self.scoped.get
            result = match(self.shape, self.actual, env, lookup, sources)
        return self._shown(result)

    def _shown(self, result: Match) -> tuple[str, str, str, str]:
        message = self.prefix + result.message + self.suffix if result.message else ""
        return result.verdict, result.expected, format_dims(self.actual), message
