"""Claims that are not comments: docstring entries that give a shape, doctest outputs."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from harness.claims.block import unparse
from harness.claims.model import Claim, Placement
from harness.claims.place import Index, around, wrap
from harness.claims.shape_text import SEPARATORS
from harness.claims.shapes import MAX_TEXT, Shape, find_shape, parse_shape
from harness.lesson import Example, Fence

_DOC_SHAPE = re.compile(r"(?:\bof\s+)?\b(?:shape|size)\b\s*[:=]?\s*", re.IGNORECASE)
_DOC_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\([^()]*\))?\s*:\s*(.*?)\s*$")
_RETURNS = ("returns", "return", "output", "outputs")
_DOC_QUOTES = re.compile(r"^\s*[rRuU]?(?:\"{3}|'{3})|(?:\"{3}|'{3})\s*$")


def _doc_shape(text: str) -> Shape | None:
    """The shape a docstring entry's description gives: the whole of it (``(B, T, C)``), or
    after ``of shape`` / ``shape:`` (``Input tensor of shape (batch, seq_len, d_model)``)."""
    whole = parse_shape(text)
    if whole is not None:
        return whole
    said = _DOC_SHAPE.search(text)
    if said is None:
        return None
    rest = text[said.end() :]
    found = find_shape(rest)
    if found is None or rest[: found[0]].strip():
        return None
    after = rest[found[1] :].strip()
    if after and not after.startswith((*SEPARATORS, ".", "where", "with")):
        return None
    return found[2]


def _returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """The values the function itself returns (not those of functions nested in it)."""
    found: list[ast.expr] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            found.append(node.value)
        stack.extend(ast.iter_child_nodes(node))
    return found


def docstring_claims(fence: Fence, tree: ast.Module, lines: list[str]) -> list[Claim]:
    found: list[Claim] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0]
        if not (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            continue
        arguments = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        end = first.end_lineno or first.lineno
        for line in range(first.lineno, end + 1):
            text = lines[line - 1] if line - 1 < len(lines) else ""
            text = _DOC_QUOTES.sub("", text)  # """x: Input tensor of shape (B, T, C)
            match = _DOC_NAME.fullmatch(text) if len(text) <= MAX_TEXT else None
            if match is None:
                continue
            name, description = match.group(1), match.group(2)
            returns = name.lower() in _RETURNS
            if returns and not description and line < end:  # Returns:\n    Tensor of shape ...
                description = lines[line].strip() if line < len(lines) else ""
            if name in arguments or returns:
                shape = _doc_shape(description)
            else:  # any other name: only a description that is a shape (x: (B, T, C))
                shape = parse_shape(description)
            if shape is None:
                continue
            text = lines[line - 1].strip()
            places: tuple[Placement, ...]
            if returns:
                values = _returns(node)
                if not values:
                    continue
                places = tuple(wrap(v) for v in values)
                name = "returned value"
            elif len(node.body) > 1:
                places = around(node.body[1], "before", (name,))
            else:
                places = around(first, "after", (name,))
            found.append(
                Claim(line, text, "shape", name, fence.line, (shape,), places, source="docstring")
            )
    return found


def example_claims(fence: Fence, index: Index | None) -> list[Claim]:
    """Doctest examples: the expected output of each, checked as doctest does; an output
    such as ``torch.Size([5, 3])`` is a shape claim about the example's value."""
    found: list[Claim] = []
    first = {e.want_line: e for e in reversed(fence.examples)}  # the first of a line wins
    for example in fence.examples:
        parsed = first[example.want_line]
        stmt = index.statement_at(example.line) if index is not None else None
        text = example.want.strip()
        shape = parse_shape(text) if text.startswith(("torch.Size(", "Size(")) else None
        if stmt is None:
            claim = Claim(example.want_line, text, "output", "", fence.line, parsed=parsed)
            found.append(replace(claim, source="doctest"))
        elif shape is not None and isinstance(stmt, ast.Expr):
            subject = unparse(stmt.value)
            found.append(
                Claim(
                    example.want_line,
                    text,
                    "shape",
                    subject,
                    fence.line,
                    (shape,),
                    (wrap(stmt.value),),
                    source="doctest",
                )
            )
        else:
            places = around(stmt, "before", (), 0) + around(stmt, "after", (), 1)
            subject = unparse(stmt).splitlines()[0].rstrip(":")
            found.append(
                Claim(
                    example.want_line,
                    text,
                    "output",
                    subject,
                    fence.line,
                    (),
                    places,
                    source="doctest",
                    parsed=parsed,
                )
            )
    return found


def example_of(fence: Fence, line: int) -> Example | None:
    return next((e for e in fence.examples if e.want_line == line), None)
