"""A block's Python AST: parsed once, with the lesson's line numbers.

Reading a lesson already parses each Python block (to find outputs pasted into it); a
``ParseMemo`` keeps those parses by text, so the one of the block's final code becomes its
``Fence.tree`` without parsing again.
"""

from __future__ import annotations

import ast

# what ast.parse raises for text it cannot take: bad syntax, a null byte, too deep
PARSE_ERRORS = (SyntaxError, ValueError, MemoryError, RecursionError)


def parse_code(text: str) -> ast.Module | SyntaxError:
    """``text``'s AST (lines from 1), or the SyntaxError that says why it does not parse."""
    try:
        return ast.parse(text)
    except SyntaxError as error:
        return error
    except (ValueError, RecursionError, MemoryError):
        return SyntaxError("cannot be parsed")


def at_lesson_lines(tree: ast.Module | None, code_line: int) -> ast.Module | None:
    """``tree`` (lines from 1) moved, in place, to start at lesson line ``code_line``."""
    return ast.increment_lineno(tree, code_line - 1) if tree is not None else None


def block_tree(code: str, code_line: int) -> ast.Module | None:
    """The AST of a block's code with lesson line numbers; None when it does not parse."""
    parsed = parse_code(code)
    return at_lesson_lines(parsed if isinstance(parsed, ast.Module) else None, code_line)


class ParseMemo:
    """The whole-block parses made while reading one block, by text (each used once: the
    tree of the final code is handed to the fence, which moves it to lesson lines)."""

    def __init__(self) -> None:
        self.trees: dict[str, ast.Module | None] = {}

    def parse(self, text: str) -> ast.Module | SyntaxError:
        parsed = parse_code(text)
        self.trees[text] = parsed if isinstance(parsed, ast.Module) else None
        return parsed

    def take(self, text: str) -> tuple[bool, ast.Module | None]:
        """(known, tree) for ``text``: known is False when it was never parsed here."""
        if text not in self.trees:
            return False, None
        return True, self.trees.pop(text)
