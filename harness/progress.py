"""The progress line of a long check: ``lessons/dl.md [cpu] block 5/17 (line 205)``.

Written on one terminal line that each block rewrites (``\\r``, padded with spaces: no escape
codes, so a dumb terminal shows it too), and wiped before the closing lines. Only when the
stream is a terminal: a log file, a pipe or CI never gets it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

from harness.lesson import Lesson


class ProgressLine:
    """A ``runner.Progress`` callback: ``line(lesson, device, block_line)`` when a block starts.

    Use as a context manager so the line is wiped however the check ends.
    """

    def __init__(self, stream: TextIO, lessons: Sequence[Lesson], enabled: bool = True) -> None:
        self.stream = stream
        self.active = enabled and _is_terminal(stream)
        self.lessons = {id(lesson): index for index, lesson in enumerate(lessons, 1)}
        self.count = len(lessons)
        self.width = 0  # of the text on the line now

    def text(self, lesson: Lesson, device: str, block_line: int) -> str:
        lines = [fence.line for fence in lesson.python_fences]
        number = lines.index(block_line) + 1 if block_line in lines else 0
        text = f"{lesson.path} [{device}] block {number}/{len(lines)} (line {block_line})"
        index = self.lessons.get(id(lesson))
        if self.count > 1 and index is not None:
            text = f"[{index}/{self.count}] {text}"
        return text

    def __call__(self, lesson: Lesson, device: str, block_line: int) -> None:
        if not self.active:
            return
        text = self.text(lesson, device, block_line)
        room = _columns(self.stream) - 1  # a full line would wrap on some terminals
        if len(text) > room:
            text = "..." + text[len(text) - room + 3 :] if room > 3 else text[:room]
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        """Wipe the line, leaving the cursor at its start."""
        if self.active and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.clear()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):  # a stand-in stream without a descriptor
        return 80
