"""The Jinja2 templates of the report (``templates/``): autoescaped, strict, with its filters."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from harness.report.formatting import duration, label, rate, when
from harness.report.highlight import pygments_css
from harness.report.views import SYMBOLS
from harness.results import Status, Verdict

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> Environment:
    found = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    found.filters["duration"] = duration
    found.filters["rate"] = rate
    found.filters["when"] = when
    found.filters["label"] = label
    found.globals["pygments_css"] = pygments_css()
    found.globals.update(Status=Status, Verdict=Verdict, SYMBOLS=SYMBOLS)  # no bare state strings
    return found
