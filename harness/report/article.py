"""The lesson text as the page's article: laid out first (every block's view and every anchor
the summary links to), then rendered.

The markdown is parsed with the lesson's own configuration (``harness.lesson``: html on, so a
fence right after a ``<div>`` line is raw HTML for the report as for the runner), from the text
the fences were read from (MkDocs admonition bodies moved out, their marker lines shown as a
title). Only *rendering* rules are the report's: a fence renders as its block view; an HTML
comment renders as nothing, except the hidden blocks it holds (folded); other raw HTML is
escaped; images are links (a report loads nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

from harness.lesson import (
    front_matter,
    make_markdown,
    markdown_parser,
    source_lines,
    unwrap_admonitions,
)
from harness.lesson.errors import LessonError
from harness.report.blocks import Layout, losses_of
from harness.report.inputs import text
from harness.report.page import HTML_COMMENT, LessonPage, uncommented
from harness.report.templates import environment
from harness.report.views import BlockView


@dataclass(frozen=True)
class Placement:
    """A block as the article shows it: its opening line, info, text as written, last line."""

    line: int
    info: str
    code: str
    end: int
    hidden: bool


def lay_out(page: LessonPage) -> list[Token]:
    """Build every view of ``page`` in reading order and note its anchors; the tokens to render."""
    layout = Layout(
        page.lesson,
        page.devices,
        page.benchmarks,
        losses_of(page.raw),
        has_source=page.source is not None,
        fences={f.line: f for f in page.parsed.fences} if page.parsed is not None else None,
    )
    page.layout = layout
    tokens: list[Token] = []
    if page.source is None:
        for block in page.lesson.blocks:
            layout.block(block.line, block.info, None, None, False)
    else:
        if page.parsed is not None:
            tokens = list(page.parsed.tokens)
        else:
            tokens = markdown_parser().parse(unwrap_admonitions(page.source))
        for token in tokens:
            if token.type == "front_matter":
                try:
                    page.meta = front_matter(token.content, page.path)
                except LessonError:  # not YAML, or not a mapping: the page does without it
                    page.meta = {}
        tokens = _without_title(tokens, page.title)
        placements = [p for token in tokens for p in _placements(token, layout)]
        for p in placements:
            layout.code_lines.update(range(p.line + 1, p.line + 1 + p.code.count("\n")))
        for p in placements:
            layout.block(p.line, p.info, p.code, p.end, p.hidden)
        for block in page.lesson.blocks:
            if block.line not in layout.views:
                page.leftovers.append(layout.block(block.line, block.info, None, None, False))
    claims = [c for c in layout.claims if c.line not in layout.shown_claims]
    if claims:
        for claim in claims:
            claim.anchor = f"C{claim.line}"
            layout.claim_anchor[claim.line] = claim.anchor
        page.leftovers.append(
            BlockView(0, None, "", False, None, claims, [], [], [], [], [], [], [])
        )
    page.note_failures()
    return tokens


def render_article(page: LessonPage) -> None:
    """Lay the page out, then render the lesson text (or, without it, every block on its own)."""
    tokens = lay_out(page)
    template = environment().get_template("block.html.j2")
    layout = page.layout
    assert layout is not None

    def render_block(view: BlockView) -> str:
        return template.render(block=view, devices=page.devices, steps=page.steps)

    if page.source is None:
        page.article = Markup("").join(Markup(render_block(v)) for v in layout.views.values())
        return
    markdown = _renderer(layout, render_block)
    titles = _admonition_titles(page.source)
    if not titles:
        page.article = Markup(markdown.renderer.render(tokens, markdown.options, {}))
        return
    parts = []
    for start, end in _top_level(tokens):
        at = tokens[start].map
        while titles and at is not None and titles[0][0] < at[0]:
            parts.append(f'<p class="admonition-title">{escapeHtml(titles.pop(0)[1])}</p>\n')
        parts.append(markdown.renderer.render(tokens[start:end], markdown.options, {}))
    page.article = Markup("".join(parts))


def _placements(token: Token, layout: Layout) -> list[Placement]:
    """The blocks a token shows: a fence, or the hidden blocks of an HTML comment."""
    if token.type == "fence" and token.map is not None:
        start, end = token.map
        return [Placement(start + 1, token.info, token.content, end, False)]
    if token.type == "html_block" and token.map is not None:
        found = _hidden_fences(token, layout)
        layout.hidden_in[token.map[0]] = [p.line for p in found]
        return found
    return []


def _hidden_fences(comment: Token, layout: Layout) -> list[Placement]:
    """Each hidden block in an HTML comment, found by parsing the comment's text.

    A fence inside the comment is a hidden block when ``parse_lesson`` says so, or, when the
    lesson text no longer parses, when the results have a block at its line.
    """
    if comment.map is None or not comment.content.lstrip().startswith("<!--"):
        return []
    found = []
    for inner in markdown_parser().parse(comment.content.replace("<!--", "", 1)):
        if inner.type != "fence" or inner.map is None:
            continue
        line = comment.map[0] + inner.map[0] + 1
        if layout.fences is not None:
            fence = layout.fences.get(line)
            if fence is None or not fence.hidden:
                continue
        elif not any(b.line == line for b in layout.lesson.blocks):
            continue
        found.append(
            Placement(line, inner.info, inner.content, comment.map[0] + inner.map[1], True)
        )
    return found


def _top_level(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """(start, end) of each top-level block in ``tokens``, to render one at a time."""
    spans = []
    start, depth = 0, 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            spans.append((start, index + 1))
            start = index + 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return spans


def _admonition_titles(source: str) -> list[tuple[int, str]]:
    """(0-based line, text) of each admonition marker line (``!!! note "Setup"``) the
    unwrapped text left blank: the page shows it as a title before what follows."""
    unwrapped = unwrap_admonitions(source)
    if unwrapped == source:
        return []
    return [
        (index, original.strip())
        for index, (original, now) in enumerate(
            zip(source_lines(source), source_lines(unwrapped), strict=False)
        )
        if original.strip() and not now.strip()
    ]


def _without_title(tokens: list[Token], title: str) -> list[Token]:
    """The tokens without a first-level heading repeating the page title (shown above it)."""
    for index, token in enumerate(tokens[:-2]):
        if token.type == "heading_open" and token.tag == "h1":
            if uncommented(tokens[index + 1].content).strip() == title.strip():
                return tokens[:index] + tokens[index + 3 :]
            break
    return tokens


def _is_comment(html: str) -> bool:
    return html.lstrip().startswith("<!--")


def _renderer(layout: Layout, render_block: Any) -> MarkdownIt:
    """The lesson configuration with the report's render rules (no parse rule is added)."""
    markdown = make_markdown()

    def fence(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        view = layout.views.get(token.map[0] + 1) if token.map is not None else None
        if view is None:  # pragma: no cover - every fence was laid out
            return str(renderer.renderToken(tokens, idx, options, env))
        return str(render_block(view))

    def html_block(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if _is_comment(token.content):
            lines = layout.hidden_in.get(token.map[0], []) if token.map is not None else []
            return "".join(render_block(layout.views[line]) for line in lines)
        shown = HTML_COMMENT.sub("", token.content).strip("\n")
        return f'<p class="raw-html">{escapeHtml(shown)}</p>\n' if shown.strip() else ""

    def html_inline(
        renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
    ) -> str:
        content = tokens[idx].content
        return "" if _is_comment(content) else escapeHtml(content)

    def image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = renderer.renderInlineAsText(token.children or [], options, env)
        src = escapeHtml(text(token.attrGet("src")))
        return f'<a class="image-link" href="{src}">[image: {escapeHtml(alt) or src}]</a>'

    markdown.add_render_rule("fence", fence)
    markdown.add_render_rule("image", image)
    markdown.add_render_rule("html_block", html_block)
    markdown.add_render_rule("html_inline", html_inline)
    return markdown
