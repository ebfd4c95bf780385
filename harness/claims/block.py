"""A block's code as claims see it: its comments, an expression shown as text."""

from __future__ import annotations

import ast

from harness.claims.model import Comment
from harness.lesson import Fence


def comments(fence: Fence) -> list[Comment]:
    """Every ``#`` comment of a block, at lesson lines (``Fence.comment_tokens``)."""
    found: list[Comment] = []
    for token in fence.comment_tokens:
        row, col = token.start
        trailing = bool(token.line[:col].strip())
        text = token.string.lstrip("#").strip()
        found.append(Comment(row + fence.code_line - 1, col, text, trailing))
    return found


def unparse(node: ast.AST) -> str:
    """``ast.unparse``, which recurses: an expression too deep for it is shown as ``...``."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return "..."
