"""``harness report``, and the writing of the HTML report ``harness check --report`` asks for."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.cli.exits import EXIT_OK, EXIT_UNUSABLE
from harness.results import JSON, one_line


def write_html(
    documents: list[JSON],
    benchmarks: list[JSON],
    out: Path,
    checked: Sequence[str] = (),
    quiet: bool = False,
) -> bool:
    """Write the HTML report; False (and one line on stderr) when ``out`` cannot be written.

    ``checked``: the lessons this run checked, whose text the report may read wherever they
    are; any other lesson path must pass ``harness.report.refused``. ``quiet``: no line
    saying where it was written.
    """
    from harness.report import write_report  # Jinja2 and Pygments: only when asked for

    try:
        written = write_report(documents, out, benchmarks, checked=checked)
    except OSError as error:
        text = f"{out}: cannot write the report ({error.strerror or error})"
        print(one_line(text), file=sys.stderr)
        return False
    if not quiet:
        pages = f"{len(written) - 1} lesson page{'s' * (len(written) != 2)}"
        print(f"report: {written[0]} ({pages})")
    return True


def report(args: argparse.Namespace) -> int:
    """``harness report``: the HTML report of results files, running nothing."""
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
    return EXIT_OK if write_html(documents, benchmarks, args.out) else EXIT_UNUSABLE
