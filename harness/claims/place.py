"""Where in a block's AST a comment applies: the statement on its line, the suite it stands
in, the value a line produces; claims about that value or about a called object."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal, Protocol

from harness.claims.block import unparse
from harness.claims.model import Claim, Comment, Insert, Placement, Wrap
from harness.claims.shapes import Shape


@dataclass
class Index:
    """Statements and suites of one block, for placing comments."""

    tree: ast.Module
    suites: list[tuple[int, int, list[ast.stmt]]] = field(default_factory=list)
    statements: list[ast.stmt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._collect(self.tree.body, 0)

    def _collect(self, body: list[ast.stmt], parent_line: int) -> None:
        if body:
            self.suites.append((parent_line, body[0].col_offset, body))
        for stmt in body:
            self.statements.append(stmt)
            for name in ("body", "orelse", "finalbody"):
                child = getattr(stmt, name, None)
                if isinstance(child, list) and child and isinstance(child[0], ast.stmt):
                    self._collect(child, stmt.lineno)
            for handler in getattr(stmt, "handlers", []):
                self._collect(handler.body, handler.lineno)
            for case in getattr(stmt, "cases", []):
                self._collect(case.body, case.pattern.lineno)

    def statement_at(self, line: int) -> ast.stmt | None:
        """The innermost statement whose own lines (not a nested body) hold ``line``."""
        best: ast.stmt | None = None
        for stmt in self.statements:
            end = stmt.end_lineno or stmt.lineno
            if stmt.lineno <= line <= end and (best is None or stmt.lineno >= best.lineno):
                best = stmt
        return best

    def position(self, line: int, col: int) -> tuple[list[ast.stmt], int] | None:
        """The suite a comment line at ``col`` belongs to, and the index it stands before."""
        chosen: tuple[int, list[ast.stmt]] | None = None
        for parent_line, suite_col, body in self.suites:
            closer = chosen is None or parent_line >= chosen[0]
            if suite_col == col and parent_line < line and closer:
                chosen = (parent_line, body)
        if chosen is None:
            return None
        body = chosen[1]
        index = sum(1 for stmt in body if (stmt.end_lineno or stmt.lineno) < line)
        return body, index


def own_expressions(stmt: ast.stmt) -> list[ast.expr]:
    """Expressions of a statement, not descending into statements nested in its bodies."""
    found: list[ast.expr] = []
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                continue
            if isinstance(child, ast.expr):
                found.append(child)
            stack.append(child)
    return found


def is_shape_read(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "size"
        and not node.args
    )


def wrap(node: ast.expr, role: Literal["value", "operand"] = "value", index: int = 0) -> Wrap:
    return Wrap(
        node.lineno,
        node.col_offset,
        node.end_lineno or node.lineno,
        node.end_col_offset or 0,
        role,
        index,
    )


def value_on_line(stmt: ast.stmt, line: int) -> tuple[ast.expr | None, str, str]:
    """The outermost expression ending on ``line``: (node, subject, reason it cannot be used)."""
    candidates = [
        node
        for node in own_expressions(stmt)
        if node.end_lineno == line and not isinstance(getattr(node, "ctx", None), ast.Store)
    ]
    if not candidates:
        return None, "", "no expression ends on this line"
    outer = min(candidates, key=lambda n: (n.lineno, n.col_offset, -(n.end_col_offset or 0)))
    if (
        isinstance(outer, ast.Call)
        and isinstance(outer.func, ast.Name)
        and outer.func.id == "print"
    ):
        reads = [n for n in ast.walk(outer) if isinstance(n, ast.expr) and is_shape_read(n)]
        if len(reads) == 1:
            return reads[0], unparse(reads[0]), ""
        if not reads:
            return None, "print(...)", "the line prints no .shape or .size()"
        shown = ", ".join(unparse(n) for n in reads)
        return None, shown, f"the line prints {len(reads)} shapes ({shown}): which one is claimed?"
    subject = unparse(outer)
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign) and stmt.value is outer:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if len(targets) == 1:
            subject = unparse(targets[0])
    return outer, subject if len(subject) <= 60 else subject[:57] + "...", ""


def assigned(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target: ast.expr = stmt.targets[0]
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        target = stmt.target
    else:
        return None
    if isinstance(target, ast.Name | ast.Attribute):
        return unparse(target)
    return None


def around(
    stmt: ast.stmt, where: Literal["before", "after"], names: tuple[str, ...], phase: int = 0
) -> tuple[Placement, ...]:
    return (Insert(stmt.lineno, stmt.col_offset, where, names, phase),)


class ClaimMaker(Protocol):
    def __call__(
        self, subject: str, places: tuple[Placement, ...] = (), reason: str = ""
    ) -> Claim: ...


def claim_maker(
    comment: Comment, kind: str, block: int, parsed: object = None, shapes: tuple[Shape, ...] = ()
) -> ClaimMaker:
    """The claim of ``comment``, made once the placing knows its subject and places (or why
    it cannot be checked)."""

    def claim(subject: str, places: tuple[Placement, ...] = (), reason: str = "") -> Claim:
        return Claim(
            comment.line, comment.text, kind, subject, block, shapes, places, reason, parsed=parsed
        )

    return claim


def _keyword_call(stmt: ast.stmt, node: ast.expr) -> ast.Call | None:
    """The call that ``node`` (a plain value: ``padding=1``) is an argument of; None when
    ``node`` is itself a call (``nn.Conv2d(...)`` inside ``nn.Sequential(...)``)."""
    if isinstance(node, ast.Call):
        return None
    for call in ast.walk(stmt):
        if isinstance(call, ast.Call) and (
            any(kw.value is node for kw in call.keywords) or any(a is node for a in call.args)
        ):
            return call
    return None


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def value_claim(
    comment: Comment,
    kind: str,
    index: Index | None,
    block: int,
    *,
    parsed: object = None,
    operands: bool = False,
    formula: bool = False,
    built: bool = False,
) -> Claim:
    """A claim about the value the commented line produces. ``operands``: the operands of its
    operation are kept too; ``formula``: the claim computes from the line's inputs again, so
    an in-place call on the line makes it unusable; ``built``: on a keyword-argument line of a
    call spread over several lines, the claim is about what the call builds."""

    claim = claim_maker(comment, kind, block, parsed)

    if index is None:
        return claim("")
    stmt = index.statement_at(comment.line)
    if stmt is None:
        return claim("", reason="no statement on this line")
    node, subject, reason = value_on_line(stmt, comment.line)
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    printed = call.args if is_print(stmt) and isinstance(call, ast.Call) else []
    if len(printed) == 1 and not isinstance(printed[0], ast.Starred):
        node, subject = printed[0], unparse(printed[0])  # print(model)  # 2.4M parameters
    if node is None:
        return claim(subject, reason=reason)
    if isinstance(stmt, ast.AugAssign) and node is stmt.value:
        why = "an augmented assignment (+=) computes its right-hand side first: claim it on x = ..."
        return claim(subject, reason=why)
    in_place = [
        n.func.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr.endswith("_")
        and not n.func.attr.startswith("_")
    ]
    if formula and in_place:
        why = f"the in-place {in_place[0]}() changes the formula's inputs as it computes"
        return claim(subject, reason=why)
    if built:
        call = _keyword_call(stmt, node)
        if call is not None and call.end_lineno != comment.line:
            node = call
            subject = unparse(call.func) + "(...)"
            if isinstance(stmt, ast.Assign) and stmt.value is call:
                subject = unparse(stmt.targets[0])
    places: tuple[Placement, ...] = (wrap(node),)
    if operands:
        places += tuple(wrap(n, "operand", i) for i, n in enumerate(_operands(node)))
    return claim(subject, places)


def call_claim(
    comment: Comment, kind: str, index: Index | None, block: int, parsed: object = None
) -> Claim:
    """A claim about the object whose method the line calls: looked at before and after."""

    claim = claim_maker(comment, kind, block, parsed)

    if index is None:
        return claim("")
    stmt = index.statement_at(comment.line)
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (
        stmt is None
        or not isinstance(call, ast.Call)
        or not isinstance(call.func, ast.Attribute)
        or not isinstance(call.func.value, ast.Name | ast.Attribute)
    ):
        return claim("", reason="the line calls no method of a named object (obj.method())")
    receiver = unparse(call.func.value)
    return claim(
        receiver, around(stmt, "before", (receiver,), 0) + around(stmt, "after", (receiver,), 1)
    )


def is_print(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "print"
    )
