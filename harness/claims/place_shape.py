"""Where a shape claim applies: a value on its line, names before or after a statement, a
transition's input and result, an operation's operands and result."""

from __future__ import annotations

import ast

from harness.claims.block import unparse
from harness.claims.model import Claim, Comment
from harness.claims.place import (
    ClaimMaker,
    Index,
    around,
    assigned,
    claim_maker,
    is_print,
    value_on_line,
    wrap,
)
from harness.claims.printed import print_run
from harness.claims.shape_text import ShapeText


def shape_claim(comment: Comment, said: ShapeText, index: Index | None, block: int) -> Claim:
    claim = claim_maker(comment, "shape", block, shapes=said.shapes)

    if index is None:  # the block does not parse: its claims are not run
        return claim(said.label or "")
    if comment.trailing:
        stmt = index.statement_at(comment.line)
        if stmt is None:
            return claim("", reason="no statement on this line")
        if said.form == "subjects":
            return claim(", ".join(said.names), around(stmt, "after", said.names))
        if said.form == "transition":
            return _transition(claim, stmt)
        if said.form == "operation":
            return _operation(claim, stmt, comment.line)
        node, subject, reason = value_on_line(stmt, comment.line)
        if node is None:
            return claim(subject, reason=reason)
        if isinstance(stmt, ast.AugAssign) and node is stmt.value and assigned(stmt):
            target = assigned(stmt) or ""  # x += b: the claim is about x afterwards
            return claim(target, around(stmt, "after", (target,)))
        return claim(subject, (wrap(node),))
    position = index.position(comment.line, comment.col)
    if position is None:
        return claim(said.label, reason="cannot tell which statement this comment belongs to")
    body, at = position
    if said.form in ("transition", "operation"):
        if at >= len(body):
            return claim(said.label, reason="no statement follows this transition")
        if said.form == "operation":
            return _operation(claim, body[at], body[at].end_lineno or body[at].lineno)
        return _transition(claim, body[at])
    if said.form == "labelled":
        return _labelled_shape(claim, comment, body, at)
    if said.form != "subjects":
        return claim(
            said.label,
            reason="a shape on a line of its own names no variable: write `name: [...]`",
        )
    if at < len(body):
        return claim(", ".join(said.names), around(body[at], "before", said.names))
    return claim(", ".join(said.names), around(body[-1], "after", said.names))


def _labelled_shape(make: ClaimMaker, comment: Comment, body: list[ast.stmt], at: int) -> Claim:
    """``# Shape: (3,)`` on a line of its own: about the statement right above it (its value
    or what it assigns), else the statement right below it."""
    above = body[at - 1] if at > 0 else None
    below = body[at] if at < len(body) else None
    if above is not None and (above.end_lineno or above.lineno) == comment.line - 1:
        stmt = above
    elif below is not None and below.lineno == comment.line + 1:
        stmt = below
    else:
        return make("", reason="no statement right above or below this shape to claim it of")
    target = assigned(stmt)
    if target is not None:
        return make(target, around(stmt, "after", (target,)))
    last = stmt.end_lineno or stmt.lineno
    node, subject, reason = value_on_line(stmt, last) if isinstance(stmt, ast.Expr) else (
        None, "", f"the statement at line {stmt.lineno} has no value and assigns no single name"
    )  # fmt: skip
    if node is None:
        return make(subject, reason=reason)
    return make(subject, (wrap(node),))


ANY = "any:"  # a name among candidates: the first of them that has a shape is looked at


def _inputs(value: ast.expr | None) -> tuple[list[str], list[ast.expr]]:
    """What an expression transforms, outermost first: names (``x`` of ``x.view(B, -1)``,
    ``self.fc(x)``) and inner values (``h.flatten(1)`` of ``self.fc(h.flatten(1))``). A
    transition's input may be any of them: ``F.relu(self.conv(x))  # [B, 1, 28, 28] -> ...``
    names the innermost, ``self.fc(h.flatten(1))  # [B, 6272] -> [B, 10]`` the flattened one."""
    names: list[str] = []
    inner: list[ast.expr] = []
    node = value
    for _ in range(50):
        parts: list[ast.expr | None] = []
        if isinstance(node, ast.Call):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            parts = [receiver, node.args[0] if node.args else None]
        elif isinstance(node, ast.BinOp):
            parts = [node.left]
        elif isinstance(node, ast.Subscript):
            parts = [node.value]
        nested = None
        for part in parts:
            if isinstance(part, ast.Name | ast.Attribute):
                names.append(unparse(part))
            elif isinstance(part, ast.Call | ast.Subscript | ast.BinOp) and nested is None:
                inner.append(part)
                nested = part
        if nested is None:
            break
        node = nested
    return list(dict.fromkeys(names)), inner


def _transition(make: ClaimMaker, stmt: ast.stmt) -> Claim:
    """A claim ``a -> b`` about a statement: its input before it runs, its result after.
    The input is the name it assigns when the statement reads it (``x = x.view(B, -1)``),
    else what its value transforms (``y = self.fc(x)``: ``x``)."""
    target = assigned(stmt)
    value = getattr(stmt, "value", None)
    value = value if isinstance(value, ast.expr) else None
    reads = value is not None and any(
        isinstance(n, ast.Name) and n.id == target for n in ast.walk(value)
    )
    inner: list[ast.expr] = []
    if target is not None and (reads or isinstance(stmt, ast.AugAssign)):
        names: tuple[str, ...] = (target,)
    else:
        found, inner = _inputs(value)
        names = (ANY, *(ANY + name for name in found))
    if not names or (names == (ANY,) and not inner):
        why = f"cannot tell what the statement at line {stmt.lineno} transforms"
        return make(target or "", reason=why)
    places = around(stmt, "before", names, 0)
    places += tuple(wrap(node, "operand", 100 + i) for i, node in enumerate(inner))
    if target is not None:
        places += around(stmt, "after", (target,), 1)
    elif value is not None and isinstance(stmt, ast.Return | ast.Expr):
        places += (wrap(value, index=1),)
    else:
        return make("", reason=f"the statement at line {stmt.lineno} has no result to claim")
    subject = target or (unparse(value) if value is not None else "")
    return make(subject, places)


def _operation(make: ClaimMaker, stmt: ast.stmt, line: int) -> Claim:
    """``(2, 3) @ (3, 4) -> (2, 4)``: the two operands of the statement's operation and its
    result."""
    node, subject, reason = value_on_line(stmt, line)
    operands: list[ast.expr] = []
    if isinstance(node, ast.BinOp):
        operands = [node.left, node.right]
    elif isinstance(node, ast.Call) and len(node.args) >= 2:  # torch.matmul(a, b)
        operands = node.args[:2]
    elif (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name | ast.Attribute)
    ):  # a.matmul(b)
        operands = [node.func.value, node.args[0]]
    if node is None or len(operands) != 2:
        return make(subject, reason=reason or f"no operation with two operands at line {line}")
    places = (wrap(operands[0]), wrap(operands[1], index=1), wrap(node, index=2))
    return make(subject, places)


def shape_printed_above(
    comment: Comment, said: ShapeText, index: Index | None, block: int
) -> Claim | None:
    """``print(x.shape)`` then ``# (2, 3)`` on the next line: a shape claim about the shape
    printed; None when the statement above prints no single shape."""
    position = index.position(comment.line, comment.col) if index is not None else None
    run = print_run(*position, comment.line) if position is not None else []
    if len(run) != 1 or not is_print(run[0]):
        return None
    node, subject, _ = value_on_line(run[0], run[0].end_lineno or run[0].lineno)
    if node is None:
        return None
    return Claim(comment.line, comment.text, "shape", subject, block, said.shapes, (wrap(node),))
