"""Code highlighting with Pygments: one escaped HTML fragment per lesson line, and its CSS."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from markdown_it.common.utils import escapeHtml
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from harness.lesson import PYTHON_LANGUAGES

PYGMENTS_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "github-dark"  # under ``prefers-color-scheme: dark``
CONSOLE = "pycon"  # the lexer of console sessions (``>>>`` prompts and their outputs)


def _token_rules(style: str) -> list[str]:
    """A style's token colours, scoped to ``.hl`` (no ``pre`` or line rules)."""
    style_defs: Callable[[str], str] = HtmlFormatter(style=style).get_style_defs
    rules = style_defs(".hl").splitlines()  # (types-Pygments leaves the method unannotated)
    return [rule for rule in rules if rule.startswith(".hl .")]


@cache
def pygments_css() -> Markup:
    """The light style's token colours, and the dark style's for a dark colour scheme."""
    light = _token_rules(PYGMENTS_STYLE)
    dark = [f"  {rule}" for rule in _token_rules(PYGMENTS_DARK_STYLE)]
    return Markup("\n".join([*light, "@media (prefers-color-scheme: dark) {", *dark, "}"]))


@cache
def _lexer(language: str) -> Lexer:
    options: dict[str, Any] = {"stripnl": False, "stripall": False, "ensurenl": True}
    lexer: Lexer
    if language == CONSOLE:
        lexer = get_lexer_by_name(CONSOLE, **options)
    elif language in PYTHON_LANGUAGES:
        lexer = PythonLexer(**options)
    elif not language:
        lexer = TextLexer(**options)
    else:
        try:
            lexer = get_lexer_by_name(language, **options)
        except ClassNotFound:
            lexer = TextLexer(**options)
    return lexer


def highlight_lines(code: str, language: str) -> list[Markup]:
    """One highlighted, escaped HTML fragment per line of ``code``.

    Pygments' HtmlFormatter closes its spans at each line end, so its output splits into
    self-contained lines; if the counts ever disagree, the lines are escaped unhighlighted.
    """
    lines = code.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", _lexer(language), HtmlFormatter(nowrap=True))
    parts = html.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    if len(parts) != len(lines):
        return [Markup(escapeHtml(line)) for line in lines]
    return [Markup(part) for part in parts]
