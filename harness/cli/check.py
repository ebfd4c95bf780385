"""``harness check``: find the lessons, run them per their configuration, print, write."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time

from harness import annotations as github
from harness.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from harness.cli.find import find_lessons, shard
from harness.cli.report import write_html
from harness.cli.terminal import Terminal, wants_colour
from harness.config import NONE, ConfigError, Finder, Settings, choose, default_devices
from harness.lesson import Lesson
from harness.progress import ProgressLine
from harness.results import LessonResult, Message, Status, results_json
from harness.results.messages import problem
from harness.run import warm
from harness.run.cache import Cache
from harness.run.runner import (
    MEMORY_LIMIT,
    TIME_LIMIT,
    Interrupted,
    cache_summary,
    check_lesson,
    deferred_signals,
    stop_on_signals,
)


def check(args: argparse.Namespace) -> int:
    """``harness check``; SIGINT and SIGTERM end it early, keeping what finished (exit
    128 + the signal: 130 for Ctrl-C, 143 for SIGTERM)."""
    with stop_on_signals() as stopped:
        try:
            code = _check(args, stopped)
        except Interrupted:  # before any lesson ran: nothing to keep
            code = EXIT_OK
        if stopped:
            name = signal.Signals(stopped[0]).name
            print(
                f"harness: interrupted by {name}: the workers were ended; what finished is "
                "reported above (and written to --json and the cache), the rest did not run",
                file=sys.stderr,
            )
            return 128 + stopped[0]
    return code


def terminal(args: argparse.Namespace) -> Terminal:
    """How this check prints: ``-q``/``-v``, colour, GitHub Actions."""
    verbosity = -1 if getattr(args, "quiet", False) else int(bool(getattr(args, "verbose", False)))
    return Terminal(sys.stdout, sys.stderr, verbosity, wants_colour(sys.stdout), github.enabled())


def _check(args: argparse.Namespace, stopped: list[int]) -> int:
    lessons, problems = find_lessons(args.paths, args.only_lessons)
    if args.shard:
        lessons = shard(lessons, *args.shard)
        problems = problems if args.shard[0] == 1 else []
    lessons, settings = configured(lessons, problems)
    out = terminal(args)
    out.problems(problems)
    cache = Cache(read=not args.no_cache)
    results: list[LessonResult] = []
    several = warm.started() if len(lessons) > 1 else contextlib.nullcontext()
    with several, ProgressLine(sys.stderr, lessons, enabled=not args.no_progress) as progress:
        for lesson in lessons:
            if stopped:  # interrupted: no other lesson starts
                break
            with contextlib.suppress(Interrupted):  # between workers: nothing of it finished
                given = settings[lesson.path]  # the command line's options win over it
                started = time.monotonic()
                results.append(
                    check_lesson(
                        lesson,
                        choose(args.devices, given.devices, default_devices()),
                        progress=progress,
                        isolated=args.isolated,
                        time_limit=choose(args.time_limit, given.time_limit, TIME_LIMIT),
                        memory_limit=choose(args.memory_limit, given.memory_limit, MEMORY_LIMIT),
                        cache=cache,
                        setup=given.setup,
                    )
                )
                progress.clear()
                out.lesson(results[-1], time.monotonic() - started)
    with deferred_signals():  # a signal now: the results are still written whole
        return _report(args, problems, results, settings, out)


def configured(
    lessons: list[Lesson], problems: list[Message]
) -> tuple[list[Lesson], dict[str, Settings]]:
    """Each lesson's project configuration (``harness.config``), by lesson path. A lesson
    whose configuration cannot be used is unusable input: its reason joins ``problems``
    (once per configuration file) and the lesson is left out."""
    finder = Finder()
    kept: list[Lesson] = []
    settings: dict[str, Settings] = {}
    for lesson in lessons:
        try:
            settings[lesson.path] = finder.settings(lesson.path)
        except ConfigError as error:
            problems.append(problem(error.reason, error.path, error.line))
            continue
        kept.append(lesson)
    problems[:] = list(dict.fromkeys(problems))
    return kept, settings


def _report(
    args: argparse.Namespace,
    problems: list[Message],
    results: list[LessonResult],
    settings: dict[str, Settings] | None = None,
    out: Terminal | None = None,
) -> int:
    """Print the messages and the closing lines, write the JSON results and the report."""
    out = out or terminal(args)
    results.sort(key=lambda result: result.lesson.path)  # whatever order they ran in
    strict = bool(getattr(args, "strict", False))
    caches = [cache_summary(result) for result in results]
    out.messages(results, strict, args.standalone, args.coverage, caches)
    unwritable = False
    if args.json or args.report:
        ran = sorted({d for r in results for d in r.devices}, key=lambda d: (d != "cpu", d))
        configs = settings or {}
        lessons = [
            {**r.to_json(), "config": configs.get(r.lesson.path, NONE).config} for r in results
        ]
        document = results_json(lessons, ran, [str(p) for p in problems])
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        if args.report:
            checked = [result.lesson.path for result in results]
            written = write_html([document], [], args.report, checked, quiet=out.verbosity < 0)
            unwritable = not written
    out.closing(results)
    if problems or unwritable:
        return EXIT_UNUSABLE
    borrowed = args.standalone and any(any(r.needs.values()) for r in results)
    failed = any(r.failures(strict) or r.counts().get(Status.FAILED) for r in results)
    return EXIT_FAILED if failed or borrowed else EXIT_OK
