"""Where a parameter count on a line of its own applies: the last module built or printed
before it (or a count computed with ``numel``)."""

from __future__ import annotations

import ast
import bisect

from harness.claims.block import unparse
from harness.claims.lineage import MAX_LINEAGE, Lazy
from harness.claims.model import Claim, Comment, Insert
from harness.claims.place import Index, claim_maker, is_print

COUNTS = frozenset({"parameter_count", "labelled_parameter_count"})
COUNTED = "int:"  # a candidate name whose integer value is itself a parameter count


def count_claim(
    comment: Comment, kind: str, index: Index | None, block: int, lazy: Lazy, parsed: object
) -> Claim:
    """A parameter count on a line of its own: about the last module built or printed before
    it (or a count computed with ``numel``), looked up where the comment stands."""

    claim = claim_maker(comment, kind, block, parsed)

    position = index.position(comment.line, comment.col) if index is not None else None
    if position is None:
        return claim("", reason="cannot tell which statement this comment belongs to")
    body, at = position
    names: list[str] = []
    lineage = lazy.get()
    last = bisect.bisect_right(lineage.starts, comment.line)
    for _, node, _, _ in reversed(lineage.statements[max(0, last - MAX_LINEAGE) : last]):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            continue
        names += [n for n in _module_candidates(node, comment.line) if n not in names]
        if len(names) >= 8:
            break
    if not names:
        return claim("", reason="no module is built or printed before this count")
    if at < len(body):
        place = Insert(body[at].lineno, body[at].col_offset, "before", tuple(names), 3)
    else:
        place = Insert(body[-1].lineno, body[-1].col_offset, "after", tuple(names), 3)
    return claim("the last module", (place,))


def _module_candidates(node: ast.stmt, before: int) -> list[str]:
    """Names a statement builds or prints, the latest first: ``model = Net()``,
    ``print(model)``, ``model.parameters()``; ``total = sum(p.numel() ...)`` as a count."""
    found: list[str] = []
    for child in sorted(
        (c for c in ast.walk(node) if isinstance(c, ast.stmt) and c.lineno < before),
        key=lambda c: c.lineno,
        reverse=True,
    ):
        if isinstance(child, ast.Assign) and len(child.targets) == 1:
            target = child.targets[0]
            name = unparse(target) if isinstance(target, ast.Name | ast.Attribute) else ""
            if name and any(
                isinstance(c, ast.Attribute) and c.attr == "numel" for c in ast.walk(child.value)
            ):
                found.append(COUNTED + name)
            elif name and isinstance(child.value, ast.Call):
                found.append(name)
        elif is_print(child):
            assert isinstance(child, ast.Expr) and isinstance(child.value, ast.Call)
            found += [unparse(a) for a in child.value.args if isinstance(a, ast.Name)]
        for call in ast.walk(child):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("parameters", "named_parameters")
                and isinstance(call.func.value, ast.Name | ast.Attribute)
            ):
                found.append(unparse(call.func.value))
    return found
