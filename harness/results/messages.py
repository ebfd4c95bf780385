"""What a check says to an author, as ``Message`` objects: failures, needs, notes, absent devices.

The terminal (``harness.cli``), GitHub annotations (``harness.annotations``) and the pytest
plugin format them; nothing parses a formatted message back. ``str(message)`` is the one line
``harness check`` prints: ``path.md:LINE: [cpu] what`` (``[info]`` before the device for
information; no line when the message is about the whole lesson).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from harness.results.status import Status, Verdict
from harness.results.text import one_line

if TYPE_CHECKING:
    from harness.results.model import LessonResult


class Level(StrEnum):
    """How loud a message is: ``error`` fails the check; ``notice`` is always said (a device
    asked for and absent); ``info`` is information (``harness check -v`` shows each)."""

    ERROR = "error"
    NOTICE = "notice"
    INFO = "info"


@dataclass(frozen=True)
class Message:
    """One thing said about a lesson, at a line (None: the lesson as a whole), on a device
    ("" when it is not about one)."""

    path: str
    line: int | None
    device: str
    level: Level
    text: str

    def __str__(self) -> str:
        """``path.md:LINE: [info] [cpu] text``, one line whatever the text holds (``one_line``)."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        info = "[info] " if self.level == Level.INFO else ""
        device = f"[{self.device}] " if self.device else ""
        return one_line(f"{where}: {info}{device}{self.text}")

    def sort_key(self) -> tuple[str, int, str]:
        """By lesson, then line (the lesson's own messages first), then device."""
        return (self.path, -1 if self.line is None else self.line, self.device)


def problem(text: str, path: str = "", line: int | None = None) -> Message:
    """Unusable input (a lesson or configuration that cannot be read), an error. ``text`` is
    the reason without the path; with no ``path`` the text is the whole message."""
    return Message(path, line, "", Level.ERROR, text)


def failures(result: LessonResult, strict: bool = False) -> list[Message]:
    """One error per failure, ``path.md:LINE: [device] what``, in line order (stable).

    Blocks whose status is ``needs`` are not failures (``needs`` says what they need) unless
    ``strict``: then each is one, ``[cpu] needs package x: ...``.
    """
    path = result.lesson.path
    found: list[Message] = []
    for fence in result.lesson.fences:
        for device, block in result.blocks.get(fence.line, {}).items():
            if block.status == Status.NEEDS and not strict:
                continue
            if block.error is not None:
                text = f"{block.error.type}: {block.error.message}"
                if block.status == Status.NEEDS:
                    text = f"{block.needs_text()}: {text}"
                found.append(
                    Message(path, block.error.line or fence.line, device, Level.ERROR, text)
                )
    for fence in result.lesson.fences:
        for device in result.blocks.get(fence.line, {}):
            moved = ran_elsewhere(result, fence.line, device)
            if moved is not None:
                found.append(moved)
    for claim in result.claims:
        for device, verdict in result.verdicts.get(claim.line, {}).items():
            if verdict.verdict == Verdict.FAILED:
                text = f"{claim.subject}: {verdict.message}" if claim.subject else verdict.message
                found.append(Message(path, claim.line, device, Level.ERROR, text))
    return sorted(found, key=lambda message: message.line or 0)


def ran_elsewhere(result: LessonResult, line: int, device: str) -> Message | None:
    """The block at ``line`` ran its work elsewhere than ``device``: said at the lesson line
    that moved it (which may be in an earlier block's function), else at the block."""
    block = result.blocks.get(line, {}).get(device)
    if block is None or "ran-elsewhere" not in block.flags:
        return None
    shares = ", ".join(f"{d} {s:.0%}" for d, s in block.census.items())
    text = f"ran-elsewhere: the block at line {line} ran its torch operations on {shares}"
    return Message(result.lesson.path, block.moved_at or line, device, Level.ERROR, text)


def needs(result: LessonResult) -> list[Message]:
    """One information message per block and device whose status is ``needs``:
    ``path.md:LINE: [info] [cpu] needs package x: ModuleNotFoundError: ...``."""
    path = result.lesson.path
    found: list[Message] = []
    for fence in result.lesson.fences:
        for device, block in result.blocks.get(fence.line, {}).items():
            if block.status != Status.NEEDS:
                continue
            line = (block.error.line if block.error else None) or fence.line
            why = f": {block.error.type}: {block.error.message}" if block.error else ""
            found.append(Message(path, line, device, Level.INFO, f"{block.needs_text()}{why}"))
    return sorted(found, key=lambda message: message.line or 0)


def lint(result: LessonResult) -> list[Message]:
    """The static notes: ``path.md:LINE: [info] device-fragile: ...``."""
    path = result.lesson.path
    return [
        Message(path, note.line, "", Level.INFO, f"{note.kind}: {note.message}")
        for note in result.notes
    ]


def borrowing(result: LessonResult, standalone: bool = False) -> list[Message]:
    """Portability: ``path.md:LINE: uses nn from line 609, ...`` per block, an error under
    ``--standalone`` (it fails the check), else information."""
    level = Level.ERROR if standalone else Level.INFO
    found = []
    for line, needed in sorted(result.needs.items()):
        if needed:
            names = ", ".join(f"{need.name} from line {need.line}" for need in needed)
            text = f"uses {names}; the block does not run alone"
            found.append(Message(result.lesson.path, line, "", level, text))
    return found


def absent(result: LessonResult) -> list[Message]:
    """A device asked for and not on this machine: ``path.md: [cuda] not checked: why``."""
    return [
        Message(result.lesson.path, None, device, Level.NOTICE, f"not checked: {why}")
        for device, why in sorted(result.absent.items())
    ]


def lesson_messages(
    result: LessonResult, strict: bool = False, standalone: bool = False
) -> list[Message]:
    """Everything a check says about one lesson, by line then device: failures (and, under
    ``strict``, needs) as errors, needs, notes and borrowed names as information (borrowed
    names are errors under ``standalone``), absent devices as notices."""
    found = failures(result, strict) + ([] if strict else needs(result))
    found += lint(result) + borrowing(result, standalone) + absent(result)
    return sorted(found, key=Message.sort_key)


def coverage_lines(result: LessonResult) -> list[str]:
    """``harness check --coverage``: the counts, then each unchecked claim and prose line."""
    path, counts = result.lesson.path, result.coverage()
    other = sum(1 for claim in result.claims if claim.source != "comment")
    lines = [
        f"{path}: coverage: {counts['comments']} comments, {counts['claims']} claims "
        f"({other} from docstrings and doctest outputs), {counts['checked']} checked, "
        f"{counts['unchecked']} unchecked, {counts['not_run']} not run, {counts['prose']} prose"
    ]
    for claim in result.claims:
        for device, verdict in result.verdicts.get(claim.line, {}).items():
            if verdict.verdict in (Verdict.UNCHECKED, Verdict.NOT_RUN):
                lines.append(
                    f"{path}:{claim.line}: [{device}] {verdict.verdict}: {claim.text}: "
                    f"{verdict.message}"
                )
    for comment in result.prose:
        lines.append(f"{path}:{comment.line}: prose: {comment.text}")
        if comment.hint:  # a near-shape: what the author probably meant
            lines.append(f"{path}:{comment.line}: {comment.hint}")
    return [one_line(line) for line in lines]
