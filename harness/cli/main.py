"""``harness``: the command authors and CI run (``harness.cli:main``)."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence

from harness.cli.check import check
from harness.cli.exits import EXIT_UNUSABLE
from harness.cli.extract import extract
from harness.cli.parser import _parser
from harness.cli.report import report
from harness.cli.watch import watch
from harness.config import default_devices


def main(argv: Sequence[str] | None = None) -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # a file name that is not UTF-8: no traceback
        sys.stdout.reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("check", "watch") and getattr(args, "devices", None) is None:
        try:
            default_devices()
        except argparse.ArgumentTypeError as error:  # exits 2, as --devices gpu does
            parser.error(str(error))
    if args.command == "check":
        return check(args)
    if args.command == "watch":
        return watch(args)
    if args.command == "extract":
        return extract(args)
    if args.command == "report":
        return report(args)
    return EXIT_UNUSABLE  # pragma: no cover - argparse rejects unknown commands
