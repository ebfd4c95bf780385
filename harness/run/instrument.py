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
import copy
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from types import CodeType, FrameType

from harness.claims import Claim, Insert, Wrap
from harness.claims.shapes import depth
from harness.lesson import Example, expected_exception, expected_warning

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


class _Rewriter:
    """Copy on write: a node whose subtree gets a probe is copied (shallowly), every other
    node is the parsed one, shared. The block's tree (``Fence.tree``) is never changed, so
    it is parsed once and instrumented as often as it runs."""

    def __init__(self, claims: Sequence[Claim]) -> None:
        self.wraps, self.inserts = _places(claims)

    def visit(self, node: ast.AST) -> ast.AST:
        node = self._children(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _holds_probe(node):
            node = _start_bindings(node)
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
            return ast.copy_location(wrapped, node) if wrapped is not node else node
        return node

    def _children(self, node: ast.AST) -> ast.AST:
        """``node``, or a shallow copy of it holding its rewritten children."""
        changed: dict[str, object] = {}
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                items = value
                if name in _SUITES and value and isinstance(value[0], ast.stmt):
                    items = self._suite(value)
                rewritten = [self.visit(v) if isinstance(v, ast.AST) else v for v in items]
                if items is not value or any(
                    a is not b for a, b in zip(rewritten, value, strict=True)
                ):
                    changed[name] = rewritten
            elif isinstance(value, ast.AST):
                new = self.visit(value)
                if new is not value:
                    changed[name] = new
        if not changed:
            return node
        node = copy.copy(node)
        for name, value in changed.items():
            setattr(node, name, value)
        return node

    def _suite(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """The statements with their probes before and after them (``body`` itself when
        none goes there)."""
        if not any((stmt.lineno, stmt.col_offset) in self.inserts for stmt in body):
            return body
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


_SUITES = ("body", "orelse", "finalbody")


def _start_bindings(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
    """A function that holds a probe starts its own bindings dict, after its docstring."""
    first = function.body[0]
    doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    start = ast.copy_location(
        ast.Assign([ast.Name(BINDINGS, ast.Store())], ast.Dict([], [])), first
    )
    function = copy.copy(function)
    function.body = (
        [*function.body[:1], start, *function.body[1:]] if doc else [start, *function.body]
    )
    return function


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
        if not isinstance(claim.parsed, Example) or claim.reason:
            continue  # only a console example's own expected output can expect an exception
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
    """``tree`` with the probes of ``claims`` inserted (lesson line numbers): a new tree that
    shares every node no probe touches; ``tree`` itself is left as it is.

    ``console``: a doctest-style block, whose expression statements display their values.
    """
    tree = ast.Module(list(tree.body), list(tree.type_ignores))
    rewritten = _Rewriter(claims).visit(tree)
    assert isinstance(rewritten, ast.Module)
    if console:
        _display(rewritten, claims)
    return ast.fix_missing_locations(rewritten)


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
