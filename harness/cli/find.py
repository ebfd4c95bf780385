"""The lessons a command is given: files, or folders searched for ``*.md``; and shards of them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.lesson import Lesson, LessonError, read_lesson
from harness.results import Message
from harness.results.messages import problem


def find_lessons(
    paths: Sequence[str], only_lessons: bool = False
) -> tuple[list[Lesson], list[Message]]:
    """Lessons under ``paths`` (files, or folders searched for ``*.md``), and problems found.

    A file named explicitly must be a usable lesson (``only_lessons``: unless it has no
    Python blocks); in a folder, markdown files without Python blocks are not lessons and are
    passed over. A file named twice (``a.md ./a.md``, a folder and a file in it, a link to
    it) is read once, where it is first named. Problems are errors (``str()``: one line).
    """
    lessons: list[Lesson] = []
    problems: list[Message] = []
    seen: set[object] = set()

    def first_time(path: Path) -> bool:
        identity = _identity(path)
        if identity in seen:
            return False
        seen.add(identity)
        return True

    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.md") if p.is_file())
            found = 0
            for file in files:
                if not first_time(file):
                    found += 1  # named before: checked there
                    continue
                try:
                    lessons.append(read_lesson(file))
                    found += 1
                except LessonError as error:
                    if not _not_a_lesson(error):
                        problems.append(problem(error.reason, error.path, error.line))
            if not found and not problems:
                text = "no lessons found (markdown files with Python blocks)"
                problems.append(problem(text, given))
            continue
        if not first_time(path):
            continue
        try:
            lessons.append(read_lesson(path))
        except LessonError as error:
            if not (only_lessons and _not_a_lesson(error)):
                problems.append(problem(error.reason, error.path, error.line))
    return lessons, list(dict.fromkeys(problems))


def _identity(path: Path) -> object:
    """What makes two names one file: its device and inode, else its resolved path."""
    try:
        status = path.stat()
    except (OSError, ValueError):
        try:
            return os.path.realpath(path)
        except (OSError, ValueError):
            return str(path)
    return (status.st_dev, status.st_ino)


def _not_a_lesson(error: LessonError) -> bool:
    """Prose, not a broken lesson: markdown without Python blocks, or an empty file."""
    return "no Python blocks" in error.reason or error.reason == "is empty"


def shard(lessons: Sequence[Lesson], k: int, n: int) -> list[Lesson]:
    """Shard ``k`` of ``n``: every n-th lesson of the list sorted by path, from the k-th on.

    Lessons with the same path count once (``find_lessons`` already reads a file once), so
    the ``n`` shards hold every lesson exactly once; the sort is stable.
    """
    unique: dict[str, Lesson] = {}
    for lesson in lessons:
        unique.setdefault(lesson.path, lesson)
    return sorted(unique.values(), key=lambda lesson: lesson.path)[k - 1 :: n]
