"""The one markdown-it configuration: how a lesson's text is read, by the runner and the report.

CommonMark with raw HTML on (as GitHub reads a file: a fence right after a ``<div>`` line is
part of that HTML block, not a code block), tables, front matter and heading anchors. Parsing
gives tokens whose ``map`` holds their 0-based source lines.
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

ANCHOR_LEVELS = (1, 3)  # headings h1..h3 get an ``id`` (the report links to them)


def make_markdown() -> MarkdownIt:
    """A new MarkdownIt with the lesson configuration. The report adds its *render* rules to
    one of its own; no one adds parse rules (the fences would no longer be the runner's)."""
    low, high = ANCHOR_LEVELS
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .use(front_matter_plugin)
        .use(anchors_plugin, min_level=low, max_level=high)
    )


@functools.cache
def markdown_parser() -> MarkdownIt:
    """The shared parser lessons are read with (``make_markdown()``); never changed."""
    return make_markdown()


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` as markdown-it counts them: split at ``\\n``, ``\\r\\n`` and ``\\r``
    only (``str.splitlines`` also splits at form feeds and Unicode separators)."""
    return re.split(r"\r\n|\r|\n", text)
