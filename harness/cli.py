"""``harness``: the command authors and CI run.

Exit codes: 0 everything passed, 1 a block or claim failed, 2 unusable input or arguments;
130 (SIGINT, Ctrl-C) or 143 (SIGTERM): interrupted, what finished is reported and written.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from harness import annotations as github
from harness.config import NONE, ConfigError, Finder, Settings, choose
from harness.lesson import TAB_VARIABLE, Lesson, LessonError, read_lesson
from harness.lesson.directives import MAX_TIME_LIMIT
from harness.progress import ProgressLine
from harness.results import JSON, LessonResult, one_line, results_json
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
from harness.static import snippets

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_PATH = "lessons"


def find_lessons(
    paths: Sequence[str], only_lessons: bool = False
) -> tuple[list[Lesson], list[str]]:
    """Lessons under ``paths`` (files, or folders searched for ``*.md``), and problems found.

    A file named explicitly must be a usable lesson (``only_lessons``: unless it has no
    Python blocks); in a folder, markdown files without Python blocks are not lessons and are
    passed over. A file named twice (``a.md ./a.md``, a folder and a file in it, a link to
    it) is read once, where it is first named. Problems are one line each (``one_line``).
    """
    lessons: list[Lesson] = []
    problems: list[str] = []
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
                        problems.append(one_line(str(error)))
            if not found and not problems:
                problems.append(
                    one_line(f"{given}: no lessons found (markdown files with Python blocks)")
                )
            continue
        if not first_time(path):
            continue
        try:
            lessons.append(read_lesson(path))
        except LessonError as error:
            if not (only_lessons and _not_a_lesson(error)):
                problems.append(one_line(str(error)))
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


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N): this machine's share of the sorted lessons."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (2/4), not {text!r}")
    return int(k), int(n)


def shard(lessons: Sequence[Lesson], k: int, n: int) -> list[Lesson]:
    """Shard ``k`` of ``n``: every n-th lesson of the list sorted by path, from the k-th on.

    Lessons with the same path count once (``find_lessons`` already reads a file once), so
    the ``n`` shards hold every lesson exactly once; the sort is stable.
    """
    unique: dict[str, Lesson] = {}
    for lesson in lessons:
        unique.setdefault(lesson.path, lesson)
    return sorted(unique.values(), key=lambda lesson: lesson.path)[k - 1 :: n]


DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "all")
MAX_MEMORY_LIMIT = 10**9  # MB: a petabyte


def parse_devices(text: str) -> list[str]:
    devices = [d.strip() for d in text.split(",") if d.strip()]
    if not devices:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of devices ({', '.join(DEVICES)}), not {text!r}"
        )
    unknown = [d for d in devices if d not in DEVICES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown device {unknown[0][:40]!r}: expected a comma-separated list of "
            f"{', '.join(DEVICES)}"
        )
    return devices


def parse_time_limit(text: str) -> float:
    """Seconds per block: a finite number above 0, at most a week (a zero limit runs nothing)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TIME_LIMIT:  # also nan and inf
        raise argparse.ArgumentTypeError(
            f"expected seconds above 0 and at most {MAX_TIME_LIMIT:g} (a week), not {text[:40]!r}"
        )
    return seconds


def parse_memory_limit(text: str) -> int:
    """Megabytes of data memory per worker: 0 (none) up to a petabyte, a whole number."""
    try:
        megabytes = int(text.strip().replace("_", ""))
    except ValueError:
        megabytes = -1
    if not 0 <= megabytes <= MAX_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected whole megabytes from 0 (no limit) to {MAX_MEMORY_LIMIT} (a petabyte), "
            f"not {text[:40]!r}"
        )
    return megabytes


def output_file(text: str) -> Path:
    """Where ``--json`` writes: a file (not a folder) whose folder exists or can be made."""
    return _writable(text, folder=False)


def output_folder(text: str) -> Path:
    """Where ``--report`` writes: a folder (not a file) that exists or can be made."""
    return _writable(text, folder=True)


def _writable(text: str, folder: bool) -> Path:
    path = Path(text)
    problem = _unwritable(path, folder)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return path


def _unwritable(path: Path, folder: bool) -> str:
    """Why nothing can be written at ``path``, or '': checked before anything runs, by making
    (and removing) a scratch folder where the first missing folder of the path would go."""
    if not str(path).strip() or "\0" in str(path):
        return "is not a path"
    if folder and path.exists() and not path.is_dir():
        return "is a file, not a folder"
    if not folder and path.is_dir():
        return "is a folder, not a file"
    where = path if folder else path.parent
    existing = where
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return f"cannot be written: {existing} is a file, not a folder"
    try:
        with tempfile.TemporaryDirectory(dir=existing, prefix=".harness-"):
            pass
    except OSError as error:
        return f"cannot be written: {error.strerror or error}"
    return ""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit 2), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_UNUSABLE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _TabAction(argparse.Action):
    """``--tab NAME``: sets ``HARNESS_TAB``, which lesson parsing reads here and in the
    workers."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        name = str(values).strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,39}", name):
            raise argparse.ArgumentError(
                self, f"expected a framework name such as pytorch or mxnet, not {values!r}"
            )
        os.environ[TAB_VARIABLE] = name
        setattr(namespace, self.dest, name)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="harness", description="Check the claims PyTorch lessons make in their comments."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run lessons and check their claims")
    check.add_argument("paths", nargs="*", default=[DEFAULT_PATH], metavar="PATH")
    check.add_argument(
        "--devices",
        type=parse_devices,
        default=None,  # not given: the project configuration's, else all (harness.config)
        help="comma-separated (cpu,cuda,mps,xpu,meta) or all (default: the project "
        "configuration's, else all available)",
    )
    check.add_argument("--json", type=output_file, metavar="FILE", help="write JSON results here")
    check.add_argument(
        "--report",
        type=output_folder,
        metavar="DIR",
        help="write the HTML report here (index.html)",
    )
    check.add_argument(
        "--time-limit",
        type=parse_time_limit,
        default=None,
        metavar="SECONDS",
        help="per block, above 0 and at most a week; a block past it fails and ends its "
        f"lesson run (default: the project configuration's, else {TIME_LIMIT:g})",
    )
    check.add_argument(
        "--memory-limit",
        type=parse_memory_limit,
        default=None,
        metavar="MB",
        help="data memory of each worker process; past it a block fails with MemoryError; "
        "0: none (default: the project configuration's, else half this machine's memory, "
        f"{MEMORY_LIMIT} here)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="run every block, answering nothing from .harness-cache/ (which is refreshed)",
    )
    check.add_argument(
        "--isolated",
        action="store_true",
        help="run each block alone from its snippet, in a fresh namespace (default: reader order)",
    )
    check.add_argument(
        "--coverage",
        action="store_true",
        help="also list, per lesson, comments found, claims, checked, unchecked (why) and prose",
    )
    check.add_argument(
        "--standalone",
        action="store_true",
        help="fail blocks that borrow names from earlier blocks (default: information only)",
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="count blocks that need what this machine lacks (a package, cuda, the network: "
        "status needs) as failures (default: said as information, exit unchanged)",
    )
    check.add_argument(
        "--shard",
        type=parse_shard,
        metavar="K/N",
        help="check only shard K of N (every N-th lesson by path, from the K-th; unusable "
        "input is reported by shard 1): one machine's share of a course",
    )
    check.add_argument(
        "--only-lessons",
        action="store_true",
        help="pass over named files without Python blocks, as in a folder (for pre-commit)",
    )
    check.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress line on stderr (shown only when stderr is a terminal)",
    )
    check.add_argument(
        "--tab",
        action=_TabAction,
        metavar="NAME",
        help="the framework whose d2l %%%%tab blocks run (default pytorch; blocks tabbed only "
        "for other frameworks are skipped)",
    )
    report = commands.add_parser(
        "report", help="write the HTML report from JSON results (runs nothing)"
    )
    report.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="results files (one per runner: merged, one column per device) and "
        "pytest-benchmark files",
    )
    report.add_argument(
        "--out", type=output_folder, default=Path("reports"), help="default: reports/"
    )
    extract = commands.add_parser("extract", help="write self-contained snippets of each block")
    extract.add_argument("paths", nargs="*", default=[DEFAULT_PATH], metavar="PATH")
    extract.add_argument(
        "--out", type=output_folder, default=Path("snippets"), help="default: snippets/"
    )
    extract.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 naming stale snippet files"
    )
    return parser


def _summary(results: Sequence[LessonResult]) -> str:
    blocks: dict[str, int] = {}
    claims: dict[str, int] = {}
    for result in results:
        for status, count in result.counts().items():
            blocks[status] = blocks.get(status, 0) + count
        for per_device in result.verdicts.values():
            for verdict in per_device.values():
                claims[verdict.verdict] = claims.get(verdict.verdict, 0) + 1
    parts = [f"{blocks.get('passed', 0)} passed", f"{blocks.get('failed', 0)} failed"]
    parts += [f"{blocks[s]} {s}" for s in ("needs", "skipped", "not-run") if blocks.get(s)]
    claim_text = ", ".join(
        f"{claims.get(v, 0)} {v}" for v in ("passed", "failed", "unchecked", "not-run")
    )
    return f"{', '.join(parts)} (blocks); claims: {claim_text}"


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


def _check(args: argparse.Namespace, stopped: list[int]) -> int:
    lessons, problems = find_lessons(args.paths, args.only_lessons)
    if args.shard:
        lessons = shard(lessons, *args.shard)
        problems = problems if args.shard[0] == 1 else []
    lessons, settings = configured(lessons, problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    cache = Cache(read=not args.no_cache)
    results: list[LessonResult] = []
    with ProgressLine(sys.stderr, lessons, enabled=not args.no_progress) as progress:
        for lesson in lessons:
            if stopped:  # interrupted: no other lesson starts
                break
            with contextlib.suppress(Interrupted):  # between workers: nothing of it finished
                given = settings[lesson.path]  # the command line's options win over it
                results.append(
                    check_lesson(
                        lesson,
                        choose(args.devices, given.devices, ("all",)),
                        progress=progress,
                        isolated=args.isolated,
                        time_limit=choose(args.time_limit, given.time_limit, TIME_LIMIT),
                        memory_limit=choose(args.memory_limit, given.memory_limit, MEMORY_LIMIT),
                        cache=cache,
                        setup=given.setup,
                    )
                )
    with deferred_signals():  # a signal now: the results are still written whole
        return _report(args, problems, results, settings)


def configured(
    lessons: Sequence[Lesson], problems: list[str]
) -> tuple[list[Lesson], dict[str, Settings]]:
    """Each lesson's project configuration (``harness.config``), by lesson path. A lesson
    whose configuration cannot be used is unusable input: its one-line reason joins
    ``problems`` (once per configuration file) and the lesson is left out."""
    finder = Finder()
    kept: list[Lesson] = []
    settings: dict[str, Settings] = {}
    for lesson in lessons:
        try:
            settings[lesson.path] = finder.settings(lesson.path)
        except ConfigError as error:
            problems.append(one_line(str(error)))
            continue
        kept.append(lesson)
    problems[:] = list(dict.fromkeys(problems))
    return kept, settings


def _report(
    args: argparse.Namespace,
    problems: list[str],
    results: list[LessonResult],
    settings: dict[str, Settings] | None = None,
) -> int:
    """Print the messages and the closing lines, write the JSON results and the report."""
    results.sort(key=lambda result: result.lesson.path)  # whatever order they ran in
    borrowed = False
    for result in results:
        strict = bool(getattr(args, "strict", False))
        for line in sorted(result.failures(strict), key=_line_and_device(result.lesson.path)):
            print(line)
        for line in () if strict else result.needs_lines():
            print(line)
        for line in result.lint():
            print(line)
        for device, why in sorted(result.absent.items()):  # asked for, not here: said
            print(one_line(f"{result.lesson.path}: [{device}] not checked: {why}"))
        for line in result.coverage_lines() if args.coverage else ():
            print(line)
        for line in result.borrowing():
            borrowed = True
            print(line if args.standalone else line.replace(": uses ", ": [info] uses ", 1))
    if github.enabled():
        for line in github.commands(results, problems, args.standalone):
            print(line)
    unwritable = False
    if args.json or args.report:
        ran = sorted({d for r in results for d in r.devices}, key=lambda d: (d != "cpu", d))
        configs = settings or {}
        lessons = [
            {**r.to_json(), "config": configs.get(r.lesson.path, NONE).config} for r in results
        ]
        document = results_json(lessons, ran, problems)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        if args.report:
            checked = [result.lesson.path for result in results]
            unwritable = not _write_report([document], [], args.report, checked)
    for result in results:
        print(one_line(cache_summary(result)))  # a file name may hold a newline
    if results:
        print(_summary(results))
    if problems or unwritable:
        return EXIT_UNUSABLE
    strict = bool(getattr(args, "strict", False))
    failed = any(r.failures(strict) or r.counts().get("failed") for r in results)
    return EXIT_FAILED if failed or (borrowed and args.standalone) else EXIT_OK


def _line_and_device(path: str) -> Callable[[str], tuple[int, str]]:
    """Sort key of ``path.md:LINE: [device] ...`` failure lines: by line, then device."""

    def key(message: str) -> tuple[int, str]:
        line, _, rest = message[len(path) + 1 :].partition(": ")
        device = rest[1 : rest.find("]")] if rest.startswith("[") else ""
        return (int(line) if line.isdigit() else 0, device)

    return key


def _write_report(
    documents: list[JSON], benchmarks: list[JSON], out: Path, checked: Sequence[str] = ()
) -> bool:
    """Write the HTML report; False (and one line on stderr) when ``out`` cannot be written.

    ``checked``: the lessons this run checked, whose text the report may read wherever they
    are; any other lesson path must pass ``harness.report.refused``.
    """
    from harness.report import write_report  # Jinja2 and Pygments: only when asked for

    try:
        written = write_report(documents, out, benchmarks, checked=checked)
    except OSError as error:
        text = f"{out}: cannot write the report ({error.strerror or error})"
        print(one_line(text), file=sys.stderr)
        return False
    print(f"report: {written[0]} ({len(written) - 1} lesson page{'s' * (len(written) != 2)})")
    return True


def report(args: argparse.Namespace) -> int:
    from harness.report import read_inputs

    try:
        documents, benchmarks = read_inputs(args.inputs)
    except ValueError as error:
        print(one_line(str(error)), file=sys.stderr)
        return EXIT_UNUSABLE
    if not documents:
        names = ", ".join(map(str, args.inputs))
        print(f"{names}: pytest-benchmark JSON only; give a results file too", file=sys.stderr)
        return EXIT_UNUSABLE
    return EXIT_OK if _write_report(documents, benchmarks, args.out) else EXIT_UNUSABLE


def extract(args: argparse.Namespace) -> int:
    lessons, problems = find_lessons(args.paths)
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


def main(argv: Sequence[str] | None = None) -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # a file name that is not UTF-8: no traceback
        sys.stdout.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    if args.command == "check":
        return check(args)
    if args.command == "extract":
        return extract(args)
    if args.command == "report":
        return report(args)
    return EXIT_UNUSABLE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
