"""Shape literals in comments, and checking them against actual sizes, jaxtyping style.

A dimension is an integer, a name, or arithmetic of those (``hidden_size*2``, ``128*3*3``).
Names bind on first sight and must then agree for the rest of one call; a dimension with one
unknown name that it is linear in is solved exactly. Comment text is parsed by ``ast`` and
walked over a whitelist: it is never evaluated by Python.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from harness.results.status import Verdict

_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div)
_DIM_CHARS = re.compile(r"[\w\s()+\-*/]+")
_LEADING_ZERO = re.compile(r"(?<!\w)0[\d_]")
_SIZE = re.compile(r"(?:torch\.)?Size\(\s*(\[.*\])\s*\)", re.DOTALL)
_BARE = re.compile(r"[\w*+/-]+(?:,[\w*+/-]+)+")
_START = re.compile(r"torch\.Size\(|(?<![\w.])Size\(|[\[(]")


@dataclass(frozen=True)
class Shape:
    text: str
    dims: tuple[str, ...]
    labels: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Match:
    verdict: Verdict  # passed, failed or unchecked
    expected: str
    actual: str
    message: str
    # every name's value after matching, and the names whose value was in scope (not bound)
    env: dict[str, int] = field(default_factory=dict)
    scoped: frozenset[str] = frozenset()


# bounds --------------------------------------------------------------------------------------
MAX_TEXT = 2000  # characters of a comment (or docstring line) read as a claim; longer: prose
MAX_DEPTH = 100  # nesting of a claim's expression that is checked


_LEAVES = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def depth(node: ast.AST) -> int:
    """How deeply ``node`` nests, operators not counted (``x+x+x``: 3), measured without
    recursion: any depth is answered."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend(
            (child, level + 1)
            for child in ast.iter_child_nodes(current)
            if not isinstance(child, _LEAVES)
        )
    return deepest


def parse_expression(text: str) -> ast.expr | None:
    """``text`` as one Python expression (parsed, never evaluated), or None when it is not one,
    is longer than ``MAX_TEXT`` or too deep for Python's parser. Callers bound the depth."""
    if len(text) > MAX_TEXT:
        return None
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


# parsing -------------------------------------------------------------------------------------
def _dim_ok(tree: ast.AST) -> bool:
    """Integers, names, + - * / // of those, at most ``MAX_DEPTH`` deep (checked iteratively)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH:
            return False
        if isinstance(node, ast.Constant):
            if type(node.value) is not int:
                return False
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _OPS):
                return False
            stack += [(node.left, level + 1), (node.right, level + 1)]
        elif not isinstance(node, ast.Name):
            return False
    return True


def _dim(text: str) -> str | None:
    """``text`` stripped when it is one dimension expression, else None."""
    text = text.strip()
    if not _DIM_CHARS.fullmatch(text) or _LEADING_ZERO.search(text):
        return None
    tree = parse_expression(text)
    return text if tree is not None and _dim_ok(tree) else None


def _split(inner: str) -> tuple[str, ...] | None:
    if not inner.strip():
        return ()
    parts = inner.split(",")
    if len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # a trailing comma: (5,)
    dims = tuple(d for d in map(_dim, parts) if d is not None)
    return dims if len(dims) == len(parts) else None


def parse_shape(text: str) -> Shape | None:
    """The whole of ``text`` as one shape literal, or None."""
    text = text.strip()
    size = _SIZE.fullmatch(text)
    body = size.group(1) if size else text
    if body[:1] + body[-1:] in ("[]", "()"):
        inner = body[1:-1]
        if "[" in inner or "]" in inner or (body[0] == "(" and "," not in inner):
            return None
        dims = _split(inner)
    elif _BARE.fullmatch(text):
        dims = _split(text)
    else:
        return None
    return None if dims is None else Shape(text, dims)


def parse_dim_shape(text: str) -> Shape | None:
    """A one-dimensional shape written as its one size (``C`` in ``of shape C``), or None."""
    dim = _dim(text)
    return Shape(text.strip(), (dim,)) if dim is not None else None


def parse_named_dims(text: str) -> Shape | None:
    """``Batch=32, SeqLen=20, Features=10``: labelled sizes, compared by position."""
    text = text.strip()
    labels: list[str | None] = []
    dims: list[str] = []
    for part in text.split(","):
        label, sep, value = (p.strip() for p in part.partition("="))
        dim = _dim(value)
        if not sep or not label.isidentifier() or dim is None:
            return None
        labels.append(label)
        dims.append(dim)
    return Shape(text, tuple(dims), tuple(labels)) if len(dims) >= 2 else None


def find_shape(text: str) -> tuple[int, int, Shape] | None:
    """The first bracketed shape literal inside ``text``: (start, end, shape)."""
    closing = _closing_brackets(text)
    for start in _START.finditer(text):
        end = closing.get(start.end() - 1)
        if end is not None:
            shape = parse_shape(text[start.start() : end + 1])
            if shape is not None:
                return start.start(), end + 1, shape
    return None


def _closing_brackets(text: str) -> dict[int, int]:
    """Where the bracket opened at each index closes (``[`` and ``(`` alike), in one pass."""
    closing: dict[int, int] = {}
    opened: list[int] = []
    for index, char in enumerate(text):
        if char in "[(":
            opened.append(index)
        elif char in "])":
            if not opened:
                continue
            closing[opened.pop()] = index
    return closing


def names_in(shape: Shape) -> tuple[str, ...]:
    """The names a shape's dimensions use (``[B, 2*H]``: B, H), in order of first use."""
    return tuple(dict.fromkeys(n for dim in shape.dims for n in _dim_names(dim)))


def format_dims(actual: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in actual) + "]"


# arithmetic ----------------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def _tree(dim: str) -> ast.expr:
    return ast.parse(dim, mode="eval").body


@lru_cache(maxsize=1024)
def _dim_names(dim: str) -> tuple[str, ...]:
    """Names in one dimension's text, in order of first appearance (read once per text)."""
    return tuple(_names(_tree(dim)))


def _names(node: ast.AST) -> list[str]:
    """Names in ``node``, in order of first appearance."""
    return list(dict.fromkeys(n.id for n in ast.walk(node) if isinstance(n, ast.Name)))


def _value(node: ast.AST, env: dict[str, int]) -> Fraction:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int)
        return Fraction(node.value)
    if isinstance(node, ast.Name):
        return Fraction(env[node.id])
    assert isinstance(node, ast.BinOp)
    left, right = _value(node.left, env), _value(node.right, env)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    return Fraction(left // right) if isinstance(node.op, ast.FloorDiv) else left / right


def _linear(node: ast.AST, name: str, env: dict[str, int]) -> tuple[Fraction, Fraction] | None:
    """``node`` as slope*name + offset, or None where it is not linear in ``name``."""
    if isinstance(node, ast.Name) and node.id == name:
        return Fraction(1), Fraction(0)
    if isinstance(node, ast.Name | ast.Constant) or name not in _names(node):
        return Fraction(0), _value(node, env)
    assert isinstance(node, ast.BinOp)
    left, right = _linear(node.left, name, env), _linear(node.right, name, env)
    if left is None or right is None:
        return None
    (a, b), (c, d) = left, right
    if isinstance(node.op, ast.Add | ast.Sub):
        sign = 1 if isinstance(node.op, ast.Add) else -1
        return a + sign * c, b + sign * d
    if isinstance(node.op, ast.Mult) and (a == 0 or c == 0):
        return a * d + b * c, b * d
    if isinstance(node.op, ast.Div) and c == 0:
        return a / d, b / d
    return None  # a product of two terms in name, division by it, or floor division


def _shown(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


# matching ------------------------------------------------------------------------------------
def match(
    shape: Shape,
    actual: Sequence[int],
    bindings: dict[str, int],
    lookup: Callable[[str], int | None],
    sources: Mapping[str, str] | None = None,
) -> Match:
    """Check ``actual`` against ``shape``; names new to ``bindings`` bind unless it fails.

    Dimensions are numbered as PyTorch numbers them, from 0 (``dim 1 is 4, found 3``).
    ``sources``: where each bound name got its value (``bound at line 40 from x.shape``), said
    when a dimension disagrees with it."""
    found = format_dims(actual)
    trees = [_tree(d) for d in shape.dims]
    labels = shape.labels or (None,) * len(trees)
    if len(trees) != len(actual):
        said = _claim(shape, trees, None)
        message = f"expected {len(trees)} dimensions {said}, found {len(actual)}: {found}"
        return Match(Verdict.FAILED, _claim(shape, trees, bindings), found, message)
    env = dict(bindings)
    origin = {name: (sources or {}).get(name, "bound") for name in bindings}
    for name in dict.fromkeys(n for dim in shape.dims for n in _dim_names(dim)):
        scoped = None if name in env else lookup(name)
        if scoped is not None:
            env[name] = bindings[name] = scoped
            origin[name] = "in scope"
    problems: list[str] = []
    undecided: dict[int, str] = {}
    pending = list(range(len(trees)))
    progress = True
    while progress:
        progress = False
        for index in list(pending):
            tree, size, dim = trees[index], actual[index], shape.dims[index]
            unknown = [n for n in _dim_names(dim) if n not in env]
            try:
                if not unknown:
                    value = _value(tree, env)
                    if value != size:
                        problems.append(_wrong(dim, labels[index], index, value, size, origin))
                elif len(unknown) > 1 or (form := _linear(tree, unknown[0], env)) is None:
                    continue
                elif form[0] == 0:
                    undecided[index] = f"cannot decide {dim} = {size}: {unknown[0]} cancels out"
                else:
                    solved = (size - form[1]) / form[0]
                    if solved.denominator == 1 and solved >= 0:
                        env[unknown[0]] = int(solved)
                        origin[unknown[0]] = f"from dim {index}"
                    else:
                        problems.append(
                            f"no integer value of {unknown[0]} makes {dim} = {size}"
                            + (f" (dim {index})" if len(trees) > 1 else "")
                        )
            except ZeroDivisionError:
                undecided[index] = f"cannot decide {dim} = {size}: it divides by zero"
            pending.remove(index)
            progress = True
    for index in pending:
        unknown = [n for n in _dim_names(shape.dims[index]) if n not in env]
        why = f"{len(unknown)} unknowns ({', '.join(unknown)})"
        if len(unknown) == 1:
            why = f"not linear in {unknown[0]}"
        undecided[index] = f"cannot decide {shape.dims[index]} = {actual[index]}: {why}"
    expected = _claim(shape, trees, env)
    shown = ", ".join(
        f"{k}={v}" + (" (in scope)" if origin[k] == "in scope" else "") for k, v in env.items()
    )
    tail = f"; bindings: {shown}" if shown else ""
    in_scope = frozenset(k for k, v in origin.items() if v == "in scope")
    if problems:
        message = f"expected {_claim(shape, trees, None)}, found {found}: {'; '.join(problems)}"
        return Match(Verdict.FAILED, expected, found, message + tail, env, in_scope)
    bindings.update(env)
    if undecided:
        why = "; ".join(undecided[i] for i in sorted(undecided))
        return Match(Verdict.UNCHECKED, expected, found, why + tail, env, in_scope)
    return Match(Verdict.PASSED, expected, found, "", env, in_scope)


def _wrong(
    dim: str, label: str | None, index: int, value: Fraction, size: int, origin: dict[str, str]
) -> str:
    """One dimension that disagrees, with where a bound name's value came from."""
    said = dim if dim.isdigit() else f"{dim} = {_shown(value)}"
    if dim in origin:
        said += f" ({origin[dim]})"
    if label is not None:
        return f"{label}={said} but found {size} at dim {index}"
    return f"dim {index} is {said}, found {size}"


def _claim(shape: Shape, trees: list[ast.expr], env: dict[str, int] | None) -> str:
    """The claim in brackets; with ``env``, each symbolic dimension shows its value or ``?``."""
    parts = []
    for dim, tree, label in zip(
        shape.dims, trees, shape.labels or (None,) * len(trees), strict=True
    ):
        part = dim
        if env is not None and not dim.isdigit():
            try:
                known = all(n in env for n in _dim_names(dim))
                part += "=" + (_shown(_value(tree, env)) if known else "?")
            except ZeroDivisionError:
                part += "=?"
        parts.append(part if label is None else f"{label}={part}")
    return "[" + ", ".join(parts) + "]"
