"""Formula claims: a comment that reads as math over names in scope, checked element-wise.

``relu = F.relu(x)  # max(0, x)`` claims that every element of ``relu`` is ``max(0, x)``.
The comment is translated (``^`` is power, ``e`` is Euler's number, ``max``/``min`` and
conditionals are element-wise), parsed by ``ast`` and walked over a whitelist: comment text is
never evaluated by Python. Values are compared with a tolerance suited to the value's dtype.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.claims.shapes import MAX_DEPTH, depth, parse_expression

# element-wise functions a formula may call, by the name it is written with
FUNCTIONS = frozenset({"max", "min", "exp", "log", "sqrt", "abs", "tanh", "sin", "cos"})
CONSTANTS = {"e": math.e, "pi": math.pi}
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_COMPARE = (ast.Gt, ast.GtE, ast.Lt, ast.LtE)
_TRANSLATE = str.maketrans({"^": "**", "\u2212": "-", "\u00d7": "*", "\u00b7": "*"})
# (rtol, atol) by dtype, as torch.testing.assert_close uses them
TOLERANCES = {
    "torch.float16": (1e-3, 1e-5),
    "torch.bfloat16": (1.6e-2, 1e-5),
    "torch.float32": (1.3e-6, 1e-5),
    "torch.float64": (1e-7, 1e-7),
}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: tuple[str, ...]  # the variables it reads, in order of first use
    reason: str = ""  # set when it reads as a formula but cannot be checked


MAX_INT = 2**63  # an integer the formula may hold: torch's int64


def _children(node: ast.AST) -> list[ast.expr] | None:
    """The operands of a whitelisted node, or None when the node is not allowed."""
    if isinstance(node, ast.Constant):
        return [] if type(node.value) in (int, float) else None
    if isinstance(node, ast.Name):
        return []
    if isinstance(node, ast.BinOp):
        return [node.left, node.right] if isinstance(node.op, _BINARY) else None
    if isinstance(node, ast.UnaryOp):
        return [node.operand] if isinstance(node.op, ast.USub | ast.UAdd) else None
    if isinstance(node, ast.Call):
        ok = (
            isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
            and len(node.args) == (2 if node.func.id in ("max", "min") else 1)
        )
        return list(node.args) if ok else None
    if isinstance(node, ast.IfExp):
        return [node.test, node.body, node.orelse]
    if isinstance(node, ast.Compare):
        ok = len(node.ops) == 1 and isinstance(node.ops[0], _COMPARE)
        return [node.left, node.comparators[0]] if ok else None
    return None


def _allowed(tree: ast.AST) -> bool:
    """Every node on the whitelist (walked without recursion: any depth is answered)."""
    stack = [tree]
    while stack:
        children = _children(stack.pop())
        if children is None:
            return False
        stack += children
    return True


def _unusable_number(tree: ast.AST) -> str:
    """Why a number in the formula cannot be computed with (it overflows), or ''."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            return "a number in it overflows a float (past 1.8e308)"
        if isinstance(value, int) and abs(value) >= MAX_INT:
            digits = len(str(abs(value)))
            return f"a number in it has {digits} digits: past torch's int64 (at most 19)"
    return ""


def parse_formula(text: str, known: frozenset[str]) -> Formula | None:
    """``text`` as a formula over ``known`` variable names, or None when it is not one.

    A formula does something (an operator or a call) and reads at least one variable; every
    variable it reads is a name the lesson defines, so prose such as ``Self-attention`` is not
    mistaken for ``Self - attention``. One that nests past ``MAX_DEPTH`` or holds a number
    that overflows comes with the reason it is not checked.
    """
    source = text.strip().translate(_TRANSLATE)
    if not source:
        return None
    tree = parse_expression(source)
    if tree is None or not _allowed(tree) or isinstance(tree, ast.Name | ast.Constant):
        return None
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in CONSTANTS and id(node) not in functions:
            if node.id not in known:
                return None
            if node.id not in names:
                names.append(node.id)
    if not names:
        return None
    levels = depth(tree)
    reason = _unusable_number(tree)
    if levels > MAX_DEPTH:
        reason = f"the formula nests {levels} levels deep: at most {MAX_DEPTH} are checked"
    return Formula(text.strip(), tree, tuple(names), reason)


def evaluate(formula: Formula, values: dict[str, Any], like: Any) -> Any:
    """The formula element-wise, with ``values`` for its names, on ``like``'s device.

    Computed in float64 (float32 where the device has no float64, as on mps).
    """
    import torch

    device = like.device if isinstance(like, torch.Tensor) else torch.device("cpu")
    dtype = torch.float32 if device.type == "mps" else torch.float64

    def tensor(value: Any) -> torch.Tensor:
        return torch.as_tensor(value, device=device).to(dtype)

    def walk(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return tensor(node.value)
        if isinstance(node, ast.Name):
            return tensor(CONSTANTS[node.id] if node.id in CONSTANTS else values[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return left + right
            if isinstance(op, ast.Sub):
                return left - right
            if isinstance(op, ast.Mult):
                return left * right
            if isinstance(op, ast.Div):
                return left / right
            return torch.pow(left, right)
        if isinstance(node, ast.Compare):
            left, right = walk(node.left), walk(node.comparators[0])
            compare = {ast.Gt: torch.gt, ast.GtE: torch.ge, ast.Lt: torch.lt, ast.LtE: torch.le}
            return compare[type(node.ops[0])](left, right)
        if isinstance(node, ast.IfExp):
            return torch.where(walk(node.test).bool(), walk(node.body), walk(node.orelse))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [walk(arg) for arg in node.args]
        name = node.func.id
        if name in ("max", "min"):
            if len(args) == 1:
                return args[0].max() if name == "max" else args[0].min()
            return (torch.maximum if name == "max" else torch.minimum)(args[0], args[1])
        function: Callable[[torch.Tensor], torch.Tensor] = getattr(torch, name)
        return function(args[0])

    return walk(formula.tree)


def compare(formula: Formula, actual: Any, expected: Any) -> tuple[bool, str, str]:
    """Whether ``actual`` equals ``expected`` within the tolerance of ``actual``'s dtype:
    (equal, what was found, why not)."""
    import torch

    if not isinstance(actual, torch.Tensor):
        actual = torch.as_tensor(actual)
    rtol, atol = TOLERANCES.get(str(actual.dtype), (0.0, 0.0))
    try:
        expected = torch.broadcast_to(expected, actual.shape)
    except RuntimeError:
        shape = list(expected.shape)
        return False, f"shape {list(actual.shape)}", f"the formula gives shape {shape}"
    got = actual.to(expected.dtype)
    close = torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return True, "", ""
    wrong = (~close).nonzero()
    first = tuple(int(i) for i in wrong[0])
    at = f"[{', '.join(map(str, first))}]" if first else "the value"
    found = float(got[first]) if first else float(got)
    want = float(expected[first]) if first else float(expected)
    names = ", ".join(f"{n}" for n in formula.names)
    why = (
        f"{int(wrong.shape[0])} of {got.numel()} elements differ; at {at} found {found:.6g}, "
        f"the formula gives {want:.6g} (over {names}; tolerance rtol={rtol:g}, atol={atol:g} "
        f"for {actual.dtype})"
    )
    return False, f"{found:.6g} at {at}", why
