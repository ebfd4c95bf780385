"""``harness``: the command authors and CI run.

Exit codes: 0 everything passed, 1 a block or claim failed, 2 unusable input or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import snippets
from harness.lesson import Lesson, LessonError, read_lesson
from harness.results import LessonResult, results_json
from harness.runner import TIME_LIMIT, check_lesson

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_PATH = "lessons"


def find_lessons(paths: Sequence[str]) -> tuple[list[Lesson], list[str]]:
    """Lessons under ``paths`` (files, or folders searched for ``*.md``), and problems found.

    A file named explicitly must be a usable lesson; in a folder, markdown files without
    Python blocks are not lessons and are passed over.
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
                    if "no Python blocks" not in error.reason:
                        problems.append(str(error))
            if not found and not problems:
                problems.append(f"{given}: no lessons found (markdown files with Python blocks)")
            continue
        try:
            lessons.append(read_lesson(path))
        except LessonError as error:
            problems.append(str(error))
    return lessons, problems


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
        "--time-limit",
        type=float,
        default=TIME_LIMIT,
        metavar="SECONDS",
        help=f"per block; a block past it fails and ends its lesson run (default {TIME_LIMIT:g})",
    )
    check.add_argument(
        "--isolated",
        action="store_true",
        help="run each block alone from its snippet, in a fresh namespace (default: reader order)",
    )
    check.add_argument(
        "--standalone",
        action="store_true",
        help="fail blocks that borrow names from earlier blocks (default: information only)",
    )
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
    lessons, problems = find_lessons(args.paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    results = [
        check_lesson(lesson, args.devices, isolated=args.isolated, time_limit=args.time_limit)
        for lesson in lessons
    ]
    borrowed = False
    for result in results:
        for line in result.failures():
            print(line)
        for line in result.lint():
            print(line)
        for line in result.borrowing():
            borrowed = True
            print(line if args.standalone else line.replace(": uses ", ": [info] uses ", 1))
    if args.json:
        ran = sorted({d for r in results for d in r.devices}, key=lambda d: (d != "cpu", d))
        document = results_json([r.to_json() for r in results], ran, problems)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    if results:
        print(_summary(results))
    if problems:
        return EXIT_UNUSABLE
    failed = any(r.failures() or r.counts().get("failed") for r in results)
    return EXIT_FAILED if failed or (borrowed and args.standalone) else EXIT_OK


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
    args = _parser().parse_args(argv)
    if args.command == "check":
        return check(args)
    if args.command == "extract":
        return extract(args)
    return EXIT_UNUSABLE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
