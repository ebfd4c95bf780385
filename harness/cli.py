"""``harness``: the command authors and CI run.

Exit codes: 0 everything passed, 1 a block or claim failed, 2 unusable input or arguments.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import annotations as github
from harness import snippets
from harness.cache import Cache
from harness.lesson import Lesson, LessonError, read_lesson
from harness.progress import ProgressLine
from harness.results import JSON, LessonResult, results_json
from harness.runner import MEMORY_LIMIT, TIME_LIMIT, cache_summary, check_lesson

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_PATH = "lessons"


def find_lessons(
    paths: Sequence[str], only_lessons: bool = False
) -> tuple[list[Lesson], list[str]]:
    """Lessons under ``paths`` (files, or folders searched for ``*.md``), and problems found.

    A file named explicitly must be a usable lesson (``only_lessons``: unless it has no
    Python blocks); in a folder, markdown files without Python blocks are not lessons and are
    passed over.
    """
    lessons: list[Lesson] = []
    problems: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.md") if p.is_file())
            found = 0
            for file in files:
                try:
                    lessons.append(read_lesson(file))
                    found += 1
                except LessonError as error:
                    if not _not_a_lesson(error):
                        problems.append(str(error))
            if not found and not problems:
                problems.append(f"{given}: no lessons found (markdown files with Python blocks)")
            continue
        try:
            lessons.append(read_lesson(path))
        except LessonError as error:
            if not (only_lessons and _not_a_lesson(error)):
                problems.append(str(error))
    return lessons, problems


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
    """Shard ``k`` of ``n``: every n-th lesson of the list sorted by path, from the k-th on."""
    return sorted(lessons, key=lambda lesson: lesson.path)[k - 1 :: n]


def parse_devices(text: str) -> list[str]:
    devices = [d.strip() for d in text.split(",") if d.strip()]
    if not devices:
        raise argparse.ArgumentTypeError("expected a list of devices such as cpu,cuda")
    return devices


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Check the claims PyTorch lessons make in their comments."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run lessons and check their claims")
    check.add_argument("paths", nargs="*", default=[DEFAULT_PATH], metavar="PATH")
    check.add_argument(
        "--devices",
        type=parse_devices,
        default=["all"],
        help="comma-separated (cpu,cuda,mps,xpu,meta) or all (default: all available)",
    )
    check.add_argument("--json", type=Path, metavar="FILE", help="write JSON results here")
    check.add_argument(
        "--report", type=Path, metavar="DIR", help="write the HTML report here (index.html)"
    )
    check.add_argument(
        "--time-limit",
        type=float,
        default=TIME_LIMIT,
        metavar="SECONDS",
        help=f"per block; a block past it fails and ends its lesson run (default {TIME_LIMIT:g})",
    )
    check.add_argument(
        "--memory-limit",
        type=int,
        default=MEMORY_LIMIT,
        metavar="MB",
        help="data memory of each worker process; past it a block fails with MemoryError; "
        f"0: none (default: half this machine's memory, {MEMORY_LIMIT} here)",
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
    report.add_argument("--out", type=Path, default=Path("reports"), help="default: reports/")
    extract = commands.add_parser("extract", help="write self-contained snippets of each block")
    extract.add_argument("paths", nargs="*", default=[DEFAULT_PATH], metavar="PATH")
    extract.add_argument("--out", type=Path, default=Path("snippets"), help="default: snippets/")
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
    parts += [f"{blocks[s]} {s}" for s in ("skipped", "not-run") if blocks.get(s)]
    claim_text = ", ".join(
        f"{claims.get(v, 0)} {v}" for v in ("passed", "failed", "unchecked", "not-run")
    )
    return f"{', '.join(parts)} (blocks); claims: {claim_text}"


def check(args: argparse.Namespace) -> int:
    lessons, problems = find_lessons(args.paths, args.only_lessons)
    if args.shard:
        lessons = shard(lessons, *args.shard)
        problems = problems if args.shard[0] == 1 else []
    for problem in problems:
        print(problem, file=sys.stderr)
    cache = Cache(read=not args.no_cache)
    with ProgressLine(sys.stderr, lessons, enabled=not args.no_progress) as progress:
        results = [
            check_lesson(
                lesson,
                args.devices,
                progress=progress,
                isolated=args.isolated,
                time_limit=args.time_limit,
                memory_limit=args.memory_limit,
                cache=cache,
            )
            for lesson in lessons
        ]
    borrowed = False
    for result in results:
        for line in result.failures():
            print(line)
        for line in result.lint():
            print(line)
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
        document = results_json([r.to_json() for r in results], ran, problems)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        if args.report:
            unwritable = not _write_report([document], [], args.report)
    for result in results:
        print(cache_summary(result))
    if results:
        print(_summary(results))
    if problems or unwritable:
        return EXIT_UNUSABLE
    failed = any(r.failures() or r.counts().get("failed") for r in results)
    return EXIT_FAILED if failed or (borrowed and args.standalone) else EXIT_OK


def _write_report(documents: list[JSON], benchmarks: list[JSON], out: Path) -> bool:
    """Write the HTML report; False (and one line on stderr) when ``out`` cannot be written."""
    from harness.report import write_report  # Jinja2 and Pygments: only when asked for

    try:
        written = write_report(documents, out, benchmarks)
    except OSError as error:
        print(f"{out}: cannot write the report ({error.strerror or error})", file=sys.stderr)
        return False
    print(f"report: {written[0]} ({len(written) - 1} lesson page{'s' * (len(written) != 2)})")
    return True


def report(args: argparse.Namespace) -> int:
    from harness.report import read_inputs

    try:
        documents, benchmarks = read_inputs(args.inputs)
    except ValueError as error:
        print(error, file=sys.stderr)
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
    for lesson in lessons:
        if args.check:
            stale_files += snippets.stale(lesson, args.out)
        else:
            for path in snippets.write(lesson, args.out):
                print(path)
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
