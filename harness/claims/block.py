"""A block's code as claims see it: its comments, its AST, an expression shown as text."""

from __future__ import annotations

import ast
import io
import tokenize

from harness.claims.model import Comment
from harness.lesson import Fence


def comments(code: str, first_line: int) -> list[Comment]:
    """Every ``#`` comment of a block, at lesson lines."""
    found: list[Comment] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                trailing = bool(token.line[:col].strip())
                text = token.string.lstrip("#").strip()
                found.append(Comment(row + first_line - 1, col, text, trailing))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def parse_block(fence: Fence) -> ast.Module | None:
    """The block's AST with lesson line numbers, or None when it does not parse."""
    try:
        tree = ast.parse(fence.code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # too deep for Python too
        return None
    return ast.increment_lineno(tree, fence.code_line - 1)


def unparse(node: ast.AST) -> str:
    """``ast.unparse``, which recurses: an expression too deep for it is shown as ``...``."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return "..."
