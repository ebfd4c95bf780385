"""``harness extract``: self-contained snippets of each block, written or checked."""

from __future__ import annotations

import argparse
import sys

from harness.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from harness.cli.find import find_lessons
from harness.static import snippets


def extract(args: argparse.Namespace) -> int:
    lessons, found = find_lessons(args.paths)
    problems = [str(problem) for problem in found]
    for problem in problems:
        print(problem, file=sys.stderr)
    stale_files: list[str] = []
    ids: dict[str, str] = {}
    for lesson in lessons:
        if lesson.id in ids:  # one folder each: a second lesson would overwrite the first
            problems.append(
                f"{lesson.path}:1: lesson id {lesson.id!r} is also the id of {ids[lesson.id]}: "
                "give one of them another `id:` in its front matter"
            )
            print(problems[-1], file=sys.stderr)
            continue
        ids[lesson.id] = lesson.path
        try:
            if args.check:
                stale_files += snippets.stale(lesson, args.out)
            else:
                for path in snippets.write(lesson, args.out):
                    print(path)
        except snippets.SnippetError as error:
            problems.append(str(error))
            print(problems[-1], file=sys.stderr)
        except OSError as error:
            text = f"{lesson.path}:1: cannot write its snippets under {args.out}: {error.strerror}"
            problems.append(text)
            print(text, file=sys.stderr)
    for line in stale_files:
        print(f"{line}: run `harness extract` and commit the result")
    if problems:
        return EXIT_UNUSABLE
    return EXIT_FAILED if stale_files else EXIT_OK
