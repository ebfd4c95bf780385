"""Shape literals in comments, and checking them against actual sizes, jaxtyping style.

A dimension is an integer, a name, or arithmetic of those (``hidden_size*2``, ``128*3*3``).
Names bind on first sight and must then agree for the rest of one call; an expression with
one unknown that is linear in it is solved. Comment text is parsed by ``ast`` and walked
over a whitelist: it is never evaluated by Python.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div)


@dataclass(frozen=True)
class Shape:
    text: str
    dims: tuple[str, ...]
    labels: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Match:
    verdict: Literal["passed", "failed", "unchecked"]
    expected: str
    actual: str
    message: str


def _dim_ok(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int and node.value >= 0
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _OPS) and _dim_ok(node.left) and _dim_ok(node.right)
    return False


def _dim(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return text if _dim_ok(tree.body) else None


def _dims(inner: str, allow_empty: bool = True) -> tuple[str, ...] | None:
    if not inner.strip():
        return () if allow_empty else None
    parts = inner.split(",")
    if parts[-1].strip() == "" and len(parts) > 1:
        parts = parts[:-1]
    dims = [_dim(p) for p in parts]
    if any(d is None for d in dims):
        return None
    return tuple(d for d in dims if d is not None)


_SIZE = re.compile(r"(?:torch\.)?Size\(\s*\[(.*)\]\s*\)", re.DOTALL)
_BARE = re.compile(r"[\w*+/-]+(?:,[\w*+/-]+)+")


def parse_shape(text: str) -> Shape | None:
    """The whole of ``text`` as one shape literal, or None."""
    text = text.strip()
    size = _SIZE.fullmatch(text)
    if size:
        dims = _dims(size.group(1))
    elif text.startswith("[") and text.endswith("]"):
        dims = _dims(text[1:-1])
    elif text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        dims = _dims(inner, allow_empty=False) if "," in inner else None
    elif _BARE.fullmatch(text):
        dims = _dims(text)
    else:
        return None
    if dims is None or ("[" in text[1:-1] and not size):
        return None
    return Shape(text, dims)


def parse_named_dims(text: str) -> Shape | None:
    """``Batch=32, SeqLen=20, Features=10``: labelled sizes, positional."""
    parts = [p.strip() for p in text.strip().split(",")]
    if len(parts) < 2:
        return None
    labels: list[str | None] = []
    dims: list[str] = []
    for part in parts:
        label, sep, value = part.partition("=")
        dim = _dim(value)
        if not sep or not label.strip().isidentifier() or dim is None:
            return None
        labels.append(label.strip())
        dims.append(dim)
    return Shape(text.strip(), tuple(dims), tuple(labels))


def find_shape(text: str) -> tuple[int, int, Shape] | None:
    """The first shape literal inside ``text``: (start, end, shape)."""
    for start, char in enumerate(text):
        if char not in "[(T S":
            continue
        for end in _closings(text, start):
            shape = parse_shape(text[start:end])
            if shape is not None:
                return start, end, shape
    return None


def _closings(text: str, start: int) -> list[int]:
    """Ends of balanced bracket candidates starting at ``start``."""
    opening = text.find(
        "(" if text.startswith(("torch.Size", "Size"), start) else text[start], start
    )
    if opening < 0 or text[opening] not in "[(":
        return []
    depth = 0
    for index in range(opening, len(text)):
        if text[index] in "[(":
            depth += 1
        elif text[index] in "])":
            depth -= 1
            if depth == 0:
                return [index + 1]
    return []


def format_dims(actual: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in actual) + "]"


def _names(node: ast.AST) -> list[str]:
    return sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)})


def _value(node: ast.AST, env: dict[str, Fraction]) -> Fraction:
    if isinstance(node, ast.Constant):
        assert type(node.value) is int
        return Fraction(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    assert isinstance(node, ast.BinOp)
    left, right = _value(node.left, env), _value(node.right, env)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    if isinstance(node.op, ast.FloorDiv):
        return Fraction(left // right)
    return left / right


def _solve(node: ast.AST, name: str, env: dict[str, Fraction], target: int) -> Fraction | None:
    """The value of ``name`` making ``node`` equal ``target`` when linear in it, else None."""
    points = [_value(node, {**env, name: Fraction(x)}) for x in (0, 1, 2)]
    slope = points[1] - points[0]
    if slope == 0 or points[2] - points[1] != slope:
        return None
    return (target - points[0]) / slope


def match(
    shape: Shape,
    actual: Sequence[int],
    bindings: dict[str, int],
    lookup: Callable[[str], int | None],
) -> Match:
    """Check ``actual`` against ``shape``; binds new names into ``bindings`` when it passes."""
    found = format_dims(actual)
    if shape.labels:
        return _match_named(shape, actual, found)
    if len(shape.dims) != len(actual):
        message = (
            f"expected {len(shape.dims)} dimensions {shape.text}, found {len(actual)}: {found}"
        )
        return Match("failed", shape.text, found, message)
    trees = [ast.parse(d, mode="eval").body for d in shape.dims]
    env: dict[str, Fraction] = {k: Fraction(v) for k, v in bindings.items()}
    origin = dict.fromkeys(bindings, "bound")
    for name in sorted({n for t in trees for n in _names(t)} - set(env)):
        known = lookup(name)
        if known is not None:
            env[name], origin[name] = Fraction(known), "in scope"
    pending = list(range(len(trees)))
    problems: list[str] = []
    undecided: list[str] = []
    progress = True
    while pending and progress:
        progress = False
        for index in list(pending):
            tree, size = trees[index], actual[index]
            unknown = [n for n in _names(tree) if n not in env]
            try:
                if not unknown:
                    computed = _value(tree, env)
                    if computed != size:
                        said = shape.dims[index]
                        if not said.isdigit():
                            said += f" = {_show(computed)}"
                        problems.append(f"dimension {index + 1} is {said}, found {size}")
                elif len(unknown) == 1:
                    solved = _solve(tree, unknown[0], env, size)
                    if solved is None:
                        continue
                    if solved.denominator != 1 or solved < 0:
                        problems.append(
                            f"no integer value of {unknown[0]} makes "
                            f"{shape.dims[index]} = {size} (dimension {index + 1})"
                        )
                    else:
                        env[unknown[0]], origin[unknown[0]] = solved, "solved"
                else:
                    continue
            except ZeroDivisionError:
                undecided.append(f"{shape.dims[index]} divides by zero")
            pending.remove(index)
            progress = True
    for index in pending:
        unknown = [n for n in _names(trees[index]) if n not in env]
        undecided.append(
            f"cannot decide {shape.dims[index]} = {actual[index]}: "
            f"{len(unknown)} unknowns ({', '.join(unknown)})"
        )
    expected = _substituted(shape, env)
    shown = ", ".join(
        f"{k}={_show(v)}" + (" (in scope)" if origin.get(k) == "in scope" else "")
        for k, v in sorted(env.items())
        if k in _all(trees)
    )
    tail = f"; bindings: {shown}" if shown else ""
    if problems:
        message = f"expected {shape.text}, found {found}: {'; '.join(problems)}{tail}"
        return Match("failed", expected, found, message)
    if undecided:
        return Match("unchecked", expected, found, "; ".join(undecided) + tail)
    for name, bound in env.items():
        if name not in bindings and bound.denominator == 1:
            bindings[name] = int(bound)
    return Match("passed", expected, found, "")


def _all(trees: Sequence[ast.AST]) -> set[str]:
    return {n for t in trees for n in _names(t)}


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def _substituted(shape: Shape, env: dict[str, Fraction]) -> str:
    if all(d.isdigit() for d in shape.dims):
        return shape.text
    parts = []
    for dim in shape.dims:
        if dim.isdigit():
            parts.append(dim)
        elif dim.isidentifier():
            parts.append(f"{dim}={_show(env[dim])}" if dim in env else f"{dim}=?")
        else:
            tree = ast.parse(dim, mode="eval").body
            known = all(n in env for n in _names(tree))
            try:
                parts.append(f"{dim}={_show(_value(tree, env))}" if known else f"{dim}=?")
            except ZeroDivisionError:
                parts.append(f"{dim}=?")
    return "[" + ", ".join(parts) + "]"


def _match_named(shape: Shape, actual: Sequence[int], found: str) -> Match:
    pairs = ", ".join(f"{label}={dim}" for label, dim in zip(shape.labels, shape.dims, strict=True))
    expected = f"[{pairs}]"
    if len(shape.dims) != len(actual):
        message = (
            f"expected {len(shape.dims)} dimensions ({shape.text}), found {len(actual)}: {found}"
        )
        return Match("failed", expected, found, message)
    wrong = []
    for index, (label, dim) in enumerate(zip(shape.labels, shape.dims, strict=True)):
        value = (
            _value(ast.parse(dim, mode="eval").body, {})
            if not _names(ast.parse(dim, mode="eval"))
            else None
        )
        if value is not None and value != actual[index]:
            wrong.append(f"{label}={dim} but dimension {index + 1} is {actual[index]}")
    if wrong:
        return Match(
            "failed", expected, found, f"expected {shape.text}, found {found}: {'; '.join(wrong)}"
        )
    return Match("passed", expected, found, "")
