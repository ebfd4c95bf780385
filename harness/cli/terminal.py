"""What ``harness check`` prints, in pytest's manner.

Per lesson, as it finishes, one line: its path, a mark per block and device (``.`` passed,
``F`` failed, ``n`` needs, ``s`` skipped, ``u`` unsupported, ``-`` not run) and its time. At the
end: the failures, grouped by lesson in line order; then per lesson its notices (a device asked
for and absent), its ``[info]`` lines (a count unless ``-v``), its coverage (``--coverage``) and
its cache line; then the closing line. ``-q``: only the failures (without their heads) and the
closing line.

Colour when stdout is a terminal; ``NO_COLOR`` (not empty) turns it off, else ``FORCE_COLOR``
(not empty) turns it on. Under GitHub Actions (``GITHUB_ACTIONS=true``) each message is printed
once, as its workflow command (``harness.annotations``), instead of as a plain line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from harness import annotations as github
from harness.results import LessonResult, Level, Message, Status, Verdict, one_line
from harness.results.messages import coverage_lines

_CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}
_MARKS: dict[str, tuple[str, str]] = {
    Status.PASSED: (".", "green"),
    Status.FAILED: ("F", "red"),
    Status.NEEDS: ("n", "yellow"),
    Status.SKIPPED: ("s", "yellow"),
    Status.UNSUPPORTED: ("u", "yellow"),
    Status.NOT_RUN: ("-", "yellow"),
}
RULE_WIDTH = 80
MAX_MARKS = 60  # blocks of a lesson on a device shown as marks; more are counted


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for ``stream``: never with ``NO_COLOR``, always with ``FORCE_COLOR`` (each when
    set and not empty, ``NO_COLOR`` first), else when the stream is a terminal."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


@dataclass
class Terminal:
    """The printing of one check. ``verbosity``: -1 quiet, 0 default, 1 verbose."""

    out: TextIO
    err: TextIO
    verbosity: int = 0
    colour: bool = False
    github: bool = False

    def paint(self, text: str, colour: str) -> str:
        return f"\x1b[{_CODES[colour]}m{text}\x1b[0m" if self.colour else text

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def problems(self, problems: Sequence[Message]) -> None:
        """Unusable input: one line each on stderr; under GitHub Actions, an error
        annotation on stdout instead."""
        for problem in problems:
            if self.github:
                self.say(github.command(problem))
            else:
                print(str(problem), file=self.err, flush=True)

    def lesson(self, result: LessonResult, seconds: float) -> None:
        """The lesson's progress line, once it finished: ``a.md [cpu] ..F. (0.42s)``."""
        if self.verbosity < 0:
            return
        parts = [one_line(result.lesson.path)]
        for device in result.devices:
            statuses = [
                per_device[device].status
                for _, per_device in sorted(result.blocks.items())
                if device in per_device
            ]
            if len(statuses) > MAX_MARKS:  # counts, as the closing line says them
                counts = {status: statuses.count(status) for status in dict.fromkeys(statuses)}
                marks = ", ".join(f"{count} {status}" for status, count in counts.items())
            else:
                marks = "".join(self._mark(status) for status in statuses)
            parts.append(f"[{device}] {marks}".rstrip())
        parts.append(f"({seconds:.2f}s)")
        self.say(" ".join(parts))

    def _mark(self, status: str) -> str:
        mark, colour = _MARKS.get(status, ("?", "yellow"))
        return self.paint(mark, colour)

    def messages(
        self,
        results: Sequence[LessonResult],
        strict: bool,
        standalone: bool,
        coverage: bool,
        cache_lines: Iterable[str],
    ) -> None:
        """The failures grouped by lesson, then each lesson's notices, information, coverage
        and cache line."""
        said = [result.messages(strict, standalone) for result in results]
        for result, messages in zip(results, said, strict=True):
            errors = [m for m in messages if m.level == Level.ERROR]
            if errors and not self.github and self.verbosity >= 0:
                self.say(self.paint(rule(one_line(result.lesson.path)), "red"))
            for message in errors:
                self._message(message)
        for result, messages, cache in zip(results, said, cache_lines, strict=True):
            if self.verbosity >= 0:
                self._notes(result, messages)
            for line in coverage_lines(result) if coverage else ():
                self.say(line)
            if self.verbosity >= 0:
                self.say(one_line(cache))

    def _notes(self, result: LessonResult, said: Sequence[Message]) -> None:
        for message in said:
            if message.level == Level.NOTICE or (message.level == Level.INFO and self.verbosity):
                self._message(message)
        hidden = sum(1 for m in said if m.level == Level.INFO) if not self.verbosity else 0
        if hidden:
            lines = "line" if hidden == 1 else "lines"
            self.say(one_line(f"{result.lesson.path}: {hidden} [info] {lines} (-v shows them)"))

    def _message(self, message: Message) -> None:
        if self.github:
            self.say(github.command(message))
        elif message.level == Level.ERROR:
            self.say(self.paint(str(message), "red"))
        elif message.level == Level.NOTICE:
            self.say(self.paint(str(message), "yellow"))
        else:
            self.say(str(message))

    def closing(self, results: Sequence[LessonResult]) -> None:
        """``17 passed, 1 failed (blocks); claims: ...``: red with a failure, yellow with a
        block not passed or a claim not decided, else green."""
        if not results:
            return
        text, blocks, claims = closing_line(results)
        if blocks.get(Status.FAILED) or claims.get(Verdict.FAILED):
            colour = "red"
        elif set(blocks) - {Status.PASSED} or set(claims) - {Verdict.PASSED}:
            colour = "yellow"
        else:
            colour = "green"
        self.say(self.paint(text, colour))


def rule(title: str, width: int = RULE_WIDTH) -> str:
    """``____ title ____``, as pytest heads each failure."""
    side = max((width - len(title) - 2) // 2, 1)  # a long path keeps a rule each side
    return f"{'_' * side} {title} {'_' * side}"


def closing_line(results: Iterable[LessonResult]) -> tuple[str, dict[str, int], dict[str, int]]:
    """The closing line, and the counts of blocks by status and claims by verdict in it."""
    blocks: dict[str, int] = {}
    claims: dict[str, int] = {}
    for result in results:
        for status, count in result.counts().items():
            blocks[status] = blocks.get(status, 0) + count
        for per_device in result.verdicts.values():
            for verdict in per_device.values():
                claims[verdict.verdict] = claims.get(verdict.verdict, 0) + 1
    parts = [f"{blocks.get(Status.PASSED, 0)} passed", f"{blocks.get(Status.FAILED, 0)} failed"]
    shown = (Status.NEEDS, Status.SKIPPED, Status.NOT_RUN)
    parts += [f"{blocks[s]} {s}" for s in shown if blocks.get(s)]
    claim_text = ", ".join(f"{claims.get(v, 0)} {v}" for v in Verdict)
    return f"{', '.join(parts)} (blocks); claims: {claim_text}", blocks, claims
