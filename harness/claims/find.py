"""Find the claims a block's comments and docstrings make, and where in its code each applies.

A *Claim* is one promise at one lesson line. Finding is static (tokenize + ast, no torch):
a comment goes to the first claim kind that reads it (``kinds.reading_order``), which says
where in the code it applies (``place``: where a probe must look at the running program, see
``instrument``); a comment no kind reads is prose. Docstring entries and doctest outputs are
claims too (``docstrings``).
"""

from __future__ import annotations

import ast
from dataclasses import replace

from harness.claims import kinds
from harness.claims.block import comments
from harness.claims.docstrings import docstring_claims, example_claims
from harness.claims.lineage import Lazy
from harness.claims.model import Claim, Comment
from harness.claims.near_shapes import near_shape
from harness.claims.place import Index
from harness.claims.shapes import MAX_TEXT
from harness.lesson import Fence, Lesson, lesson_names, source_lines


def parse_block(fence: Fence) -> ast.Module | None:
    """The block's AST with lesson line numbers, or None when it does not parse: the one AST
    of the fence (``Fence.tree``), shared: never change it in place."""
    return fence.tree


def _replaced(fence: Fence, line: int) -> str:
    """Why a claim on ``line`` cannot be checked: a replace directive changed that line."""
    lines = fence.code.split("\n")
    text = lines[line - fence.code_line] if 0 <= line - fence.code_line < len(lines) else ""
    for at, _old, new in fence.directives.replacements:
        if new and new in text:
            return f"the replace directive at line {at} changed this line: it claims the original"
    return ""


def _comment_claim(comment: Comment, reading: kinds.Reading) -> Claim | None:
    """The claim of the first kind that reads the comment, or None (prose)."""
    for kind in kinds.reading_order():
        parsed = kind.read(comment, reading)
        if parsed is None:
            continue
        claim = kind.place(comment, parsed, reading)
        why = kind.unusable(parsed) or _replaced(reading.fence, comment.line)
        return replace(claim, places=(), reason=why) if why else claim
    return None


def read_comments(lesson: Lesson) -> tuple[list[Claim], list[Comment]]:
    """Every claim of every Python block in line order, and the comments that are prose."""
    lines = source_lines(lesson.source)
    known = lesson_names(lesson)
    lineage = Lazy(lesson)
    found: list[Claim] = []
    prose: list[Comment] = []
    for fence in lesson.python_fences:
        tree = parse_block(fence)
        index = Index(tree) if tree is not None else None
        block_comments = comments(fence)
        consumed: set[int] = set()  # further lines of an output claimed above them
        for position, comment in enumerate(block_comments):
            if comment.line in consumed:
                continue
            if len(comment.text) > MAX_TEXT:  # prose: no claim is that long
                prose.append(comment)
                continue
            following = block_comments[position + 1 : position + 40]
            reading = kinds.Reading(fence, index, known, lineage, following, consumed)
            claim = _comment_claim(comment, reading)
            if claim is None:
                prose.append(replace(comment, hint=near_shape(comment.text)))
            else:
                found.append(claim)
        if tree is not None:
            found.extend(docstring_claims(fence, tree, lines))
        found.extend(example_claims(fence, index))
    return sorted(found, key=lambda c: c.line), prose


def find_claims(lesson: Lesson) -> list[Claim]:
    """Every claim of every Python block, in line order."""
    return read_comments(lesson)[0]
