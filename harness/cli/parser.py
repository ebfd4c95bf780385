"""The command line of ``harness``: its subcommands and options."""

from __future__ import annotations

import argparse
import os
import re
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from harness.cli.arguments import (
    output_file,
    output_folder,
    parse_devices,
    parse_memory_limit,
    parse_shard,
    parse_time_limit,
)
from harness.cli.exits import EXIT_UNUSABLE
from harness.lesson import TAB_VARIABLE
from harness.run.runner import MEMORY_LIMIT, TIME_LIMIT

DEFAULT_PATH = "lessons"


def version() -> str:
    """The installed harness's version (``harness --version``)."""
    try:
        return metadata.version("harness")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown (not installed)"


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
    parser.add_argument("--version", action="version", version=f"harness {version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _check_options(commands.add_parser("check", help="run lessons and check their claims"))
    watch = commands.add_parser(
        "watch", help="check, then check again each time a lesson or its configuration is saved"
    )
    _check_options(watch)
    watch.add_argument(
        "--interval", type=float, default=0.3, help="seconds between looks (default: 0.3)"
    )
    watch.add_argument(
        "--runs", type=int, default=0, metavar="N", help="stop after N checks (default: never)"
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


def _check_options(check: argparse.ArgumentParser) -> None:
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
    loudness = check.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show every information line ([info]: notes, needs, borrowed names), not their count",
    )
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the failures and the closing line",
    )
    check.add_argument(
        "--tab",
        action=_TabAction,
        metavar="NAME",
        help="the framework whose d2l %%%%tab blocks run (default pytorch; blocks tabbed only "
        "for other frameworks are skipped)",
    )
