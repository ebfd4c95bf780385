"""Rewrite a block's AST so that each claim is checked where it applies, then compile it.

Probes call the ``__harness__`` object of the lesson namespace (see ``probe.Probe``):
``__harness__.value(line, expr, bindings)`` returns ``expr`` unchanged (so does
``__harness__.operand(line, index, expr)``, which keeps an operand for the claim), and
``__harness__.names(line, phase, names, bindings)`` looks names up in the caller's frame.
Each function that holds a probe starts a fresh ``__harness_bindings__`` dict, so symbolic
dimensions bind once per call. Line numbers stay those of the lesson: tracebacks name it.
"""

from __future__ import annotations

import ast
import contextlib
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from types import CodeType, FrameType

from harness.claims import Claim, Insert, Wrap
from harness.claims.shapes import depth
from harness.lesson import expected_exception, expected_warning

PROBE = "__harness__"
BINDINGS = "__harness_bindings__"


def _call(method: str, args: list[ast.expr]) -> ast.Call:
    func = ast.Attribute(ast.Name(PROBE, ast.Load()), method, ast.Load())
    return ast.Call(func, args, [])


def _bindings() -> ast.Name:
    return ast.Name(BINDINGS, ast.Load())


Wraps = dict[tuple[int, int, int, int], list[tuple[int, Wrap]]]
Inserts = dict[tuple[int, int], list[tuple[Insert, int]]]
# the places of the last claims indexed: a lesson run instruments every block (and every
# snippet prelude) with the same claims, so indexing them once keeps 3,000 blocks linear
_last: list[tuple[Sequence[Claim], int, Wraps, Inserts]] = []


def _places(claims: Sequence[Claim]) -> tuple[Wraps, Inserts]:
    """Where the claims look, by position: (wraps, inserts); read-only for the caller."""
    if _last and _last[0][0] is claims and _last[0][1] == len(claims):
        return _last[0][2], _last[0][3]
    # position -> [(claim line, wrap)]: several claims may look at one expression
    wraps: Wraps = defaultdict(list)
    inserts: Inserts = defaultdict(list)
    for claim in claims:
        if claim.reason:
            continue
        for place in claim.places:
            if isinstance(place, Wrap):
                wraps[place.position].append((claim.line, place))
            else:
                inserts[(place.line, place.col)].append((place, claim.line))
    _last[:] = [(claims, len(claims), dict(wraps), dict(inserts))]
    return _last[0][2], _last[0][3]


class _Rewriter(ast.NodeTransformer):
    def __init__(self, claims: Sequence[Claim]) -> None:
        self.wraps, self.inserts = _places(claims)
        self.probed: set[int] = set()  # id() of functions that hold a probe

    def visit(self, node: ast.AST) -> ast.AST:
        node = super().visit(node)
        if (
            isinstance(node, ast.expr)
            and hasattr(node, "lineno")
            and not isinstance(getattr(node, "ctx", None), ast.Store)
        ):
            key = (node.lineno, node.col_offset, node.end_lineno or 0, node.end_col_offset or 0)
            wrapped: ast.expr = node
            for line, place in self.wraps.get(key, ()):
                if place.role == "operand":
                    args = [ast.Constant(line), ast.Constant(place.index), wrapped]
                    wrapped = _call("operand", args)
                else:
                    args = [ast.Constant(line), wrapped, _bindings()]
                    if place.index:  # which of the claim's shapes (a transition's result: 1)
                        args.append(ast.Constant(place.index))
                    wrapped = _call("value", args)
            return ast.copy_location(wrapped, node)
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, name, self._suite(body))
        return super().generic_visit(node)

    def _suite(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            pending = self.inserts.get((stmt.lineno, stmt.col_offset), [])
            out.extend(self._probe(stmt, p, line) for p, line in pending if p.where == "before")
            out.append(stmt)
            out.extend(self._probe(stmt, p, line) for p, line in pending if p.where == "after")
        return out

    def _probe(self, stmt: ast.stmt, place: Insert, line: int) -> ast.stmt:
        names = ast.Tuple([ast.Constant(n) for n in place.names], ast.Load())
        call = _call("names", [ast.Constant(line), ast.Constant(place.phase), names, _bindings()])
        return ast.copy_location(ast.Expr(call), stmt)


def _start_bindings(tree: ast.Module) -> None:
    """Give every function that holds a probe its own bindings dict, after its docstring."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not _holds_probe(node):
            continue
        first = node.body[0]
        doc = (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        )
        start = ast.Assign([ast.Name(BINDINGS, ast.Store())], ast.Dict([], []))
        node.body.insert(1 if doc else 0, ast.copy_location(start, first))


def _holds_probe(function: ast.AST) -> bool:
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == PROBE
        ):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _display(tree: ast.Module, claims: Sequence[Claim] = ()) -> None:
    """A console session shows the value of each expression statement: so does the block.

    A statement whose expected output is an exception or a warning runs inside
    ``with __harness__.expecting(claim line):``, which checks what it raised or warned."""
    expecting: dict[int, int] = {}  # statement line -> the claim line of its expected output
    for claim in claims:
        if claim.source != "doctest" or claim.kind != "output" or claim.reason:
            continue
        if expected_exception(claim.text) or expected_warning(claim.text):
            for place in claim.places:
                if isinstance(place, Insert) and place.where == "before":
                    expecting[place.line] = claim.line
    for index, stmt in enumerate(tree.body):
        if _is_probe(stmt):
            continue
        if isinstance(stmt, ast.Expr):
            call = ast.copy_location(_call("display", [stmt.value]), stmt.value)
            stmt = tree.body[index] = ast.copy_location(ast.Expr(call), stmt)
        line = expecting.get(stmt.lineno)
        if line is not None:
            item = ast.withitem(_call("expecting", [ast.Constant(line)]), None)
            tree.body[index] = ast.copy_location(ast.With([item], [stmt]), stmt)


def _is_probe(stmt: ast.stmt) -> bool:
    """A probe the rewriter inserted: ``__harness__.names(...)`` as a statement."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == PROBE
        and call.func.attr == "names"
    )


def instrument(tree: ast.Module, claims: Sequence[Claim], console: bool = False) -> ast.Module:
    """Insert the probes of ``claims`` into ``tree`` (lesson line numbers), in place.

    ``console``: a doctest-style block, whose expression statements display their values.
    """
    _Rewriter(claims).visit(tree)
    if console:
        _display(tree, claims)
    _start_bindings(tree)
    return ast.fix_missing_locations(tree)


def compile_block(
    tree: ast.Module, claims: Sequence[Claim], filename: str, console: bool = False
) -> CodeType:
    """Compile an instrumented block; tracebacks name ``filename`` at lesson lines.

    Code as deep as Python's own parser takes (a sum of 2,900 terms) compiles: rewriting the
    tree and compiling it from the tree recurse once per level, so the recursion limit is
    raised for as long as that takes.
    """
    with _recursion_for(tree):
        return compile(instrument(tree, claims, console), filename, "exec", dont_inherit=True)


@contextlib.contextmanager
def _recursion_for(tree: ast.AST) -> Iterator[None]:
    """A recursion limit that ``tree``'s depth (measured without recursion) fits in."""
    frame: FrameType | None
    frames, frame = 0, sys._getframe()  # how deep the caller already is
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    needed = frames + 5 * depth(tree) + 200  # visit, generic_visit and their super() calls
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, needed))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
