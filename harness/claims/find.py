"""Find the claims a block's comments and docstrings make, and where in its code each applies.

A *Claim* is one promise at one lesson line. Finding is static (tokenize + ast, no torch):
the comment text says what is claimed, the code around it says about what, and ``place``
says where a probe must look at the running program (see ``instrument``).
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from harness.claims import behaviours
from harness.claims.formulas import parse_formula
from harness.claims.shapes import (
    MAX_TEXT,
    Shape,
    find_shape,
    parse_dim_shape,
    parse_named_dims,
    parse_shape,
)
from harness.lesson import Example, Fence, Lesson, source_lines

KINDS = ("shape", "formula", "behaviour", "output", "printed")


@dataclass(frozen=True)
class Wrap:
    """Look at the value of the expression at this position (lesson lines, block columns).

    ``role``: ``value`` is what the claim is about; ``operand`` (number ``index``) is kept
    for the claim's check, as the operands of ``x + y  # Element-wise addition``.
    """

    line: int
    col: int
    end_line: int
    end_col: int
    role: Literal["value", "operand"] = "value"
    index: int = 0

    @property
    def position(self) -> tuple[int, int, int, int]:
        return (self.line, self.col, self.end_line, self.end_col)


@dataclass(frozen=True)
class Insert:
    """Look up ``names`` just before or after the statement that starts at ``line``/``col``."""

    line: int
    col: int
    where: Literal["before", "after"]
    names: tuple[str, ...]
    phase: int = 0


Placement = Wrap | Insert


@dataclass(frozen=True)
class Claim:
    line: int
    text: str
    kind: str
    subject: str
    block: int
    shapes: tuple[Shape, ...] = ()
    places: tuple[Placement, ...] = ()
    reason: str = ""  # set when the claim is understood but cannot be checked
    source: Literal["comment", "docstring", "doctest"] = "comment"
    note: str = ""  # printed values: why a mismatch is unchecked, not failed (random values)


@dataclass(frozen=True)
class Comment:
    line: int
    col: int
    text: str
    trailing: bool


_SUBJECTS = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*")
_DOC_ENTRY = re.compile(r"\s*([A-Za-z_]\w*)\s*:\s*(.+?)\s*$")
_SEPARATORS = ("-", "\u2013", "\u2014", "(", ",", ";", "#")


# labels that name the value of their line, not a variable: ``# Output: torch.Size([2, 3])``
_VALUE_LABELS = frozenset({"output", "out", "result", "returns", "return", "value", "shape"})
_SHAPE_LABEL = re.compile(
    r"((?:(?:the |its )?(?:output|result|final|new|out|tensor|returned|return)\s+)?"
    r"(?:shape|size|dims|dimensions)(?:\s+is)?|\u5f62\u72b6|\u7ef4\u5ea6|\u5c3a\u5bf8|\u8f93\u51fa\u5f62\u72b6)"
    r"\s*(?::|\uff1a|->|\u2192|=>|=)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ShapeText:
    """What a comment says, before we know what code it is about."""

    form: Literal["value", "named", "subjects", "transition", "operation", "label", "labelled"]
    shapes: tuple[Shape, ...]
    names: tuple[str, ...] = ()
    label: str = ""


_ARROWS = re.compile(r"\s*(?:-{1,2}>|\u2014>|\u2013>|\u2192|\u27f6|\u21d2|=>)\s*")
_OPERATORS = ("@", "*", "+", "x", "\u00d7")


def _chain(first: Shape, after: str) -> tuple[list[Shape], list[str]]:
    """``-> [B, 392]``, ``@ (3, 4) -> (2, 4)`` after a first shape: the shapes and operators."""
    chain, operators = [first], []
    rest = after
    while rest:
        op = re.match(r"(->|@|\*|\+|x(?=\s)|\u00d7)\s*", rest)
        if op is None:
            break
        tail = rest[op.end() :]
        found = find_shape(tail)
        if found is None or tail[: found[0]].strip():
            break
        operators.append(op.group(1))
        chain.append(found[2])
        rest = tail[found[1] :].strip()
    return chain, operators


DESCRIBED = "described"  # the label of ``x is the input activations, of shape B,T,C``
_DESCRIBED = re.compile(
    r"([A-Za-z_][\w.]*)\s+(?:is|are|holds?)\b[^#]*?\b(?:of|with)\s+shape\s*:?\s*(.+?)\.?"
)


def read_shape_comment(text: str) -> ShapeText | None:
    """Classify comment text as a shape claim, or None when it is not one."""
    described = _DESCRIBED.fullmatch(text.strip()) if len(text) <= MAX_TEXT else None
    if described:  # x is the input activations, of shape B,T,C
        shape = parse_shape(described.group(2)) or parse_dim_shape(described.group(2))
        if shape is not None:
            return ShapeText("subjects", (shape,), (described.group(1),), DESCRIBED)
    named = parse_named_dims(text)
    if named is not None:
        return ShapeText("named", (named,))
    bare = parse_shape(text.removeprefix("->").strip())
    if bare is not None:
        return ShapeText("value", (bare,))
    found = find_shape(text)
    if found is None:
        return None
    start, end, first = found
    prefix, after = text[:start].strip(), _ARROWS.sub(" -> ", text[end:]).strip()
    chain, operators = _chain(first, after)
    if operators and "->" not in operators:
        return None  # (2, 3) @ (3, 4) with no result: prose
    if operators:
        label = prefix.rstrip(":").strip()
        arrow = operators.index("->")
        if arrow == 1 and operators[0] in _OPERATORS:  # (2, 3) @ (3, 4) -> (2, 4)
            return ShapeText("operation", (chain[0], chain[1], chain[-1]), label=label)
        if arrow == 0 and all(op == "->" for op in operators):  # a -> b (-> c ...): a, then c
            return ShapeText("transition", (first, chain[-1]), label=label)
        return None
    if after.startswith("->"):
        return None
    if after and not after.startswith(_SEPARATORS):
        return None
    if not prefix:
        return ShapeText("value", (first,))
    labelled = _SHAPE_LABEL.fullmatch(prefix)
    if labelled:  # Shape: (3,), shape -> [B, T], Output shape: torch.Size([2, 3]), 形状: (2, 3)
        label = labelled.group(1)
        word = re.fullmatch(r"([A-Za-z_][\w.]*)\s+(?:shape|size)", label)
        return ShapeText("labelled", (first,), (word.group(1),) if word else (), label)
    if not prefix.endswith(":"):
        return None
    label = prefix[:-1].strip()
    subjects = re.sub(r"\s+shape$", "", label, flags=re.IGNORECASE)
    if _SUBJECTS.fullmatch(subjects):
        names = tuple(n.strip() for n in subjects.split(","))
        return ShapeText("subjects", (first,), names=names, label=label)
    return ShapeText("label", (first,), label=label)


def comments(code: str, first_line: int) -> list[Comment]:
    """Every ``#`` comment of a block, at lesson lines."""
    found: list[Comment] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                trailing = bool(token.line[:col].strip())
                text = token.string.lstrip("#").strip()
                found.append(Comment(row + first_line - 1, col, text, trailing))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def parse_block(fence: Fence) -> ast.Module | None:
    """The block's AST with lesson line numbers, or None when it does not parse."""
    try:
        tree = ast.parse(fence.code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # too deep for Python too
        return None
    return ast.increment_lineno(tree, fence.code_line - 1)


def unparse(node: ast.AST) -> str:
    """``ast.unparse``, which recurses: an expression too deep for it is shown as ``...``."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return "..."


@dataclass
class _Index:
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


def _own_expressions(stmt: ast.stmt) -> list[ast.expr]:
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


def _is_shape_read(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "size"
        and not node.args
    )


def _wrap(node: ast.expr, role: Literal["value", "operand"] = "value", index: int = 0) -> Wrap:
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
        for node in _own_expressions(stmt)
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
        reads = [n for n in ast.walk(outer) if isinstance(n, ast.expr) and _is_shape_read(n)]
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


def _target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target: ast.expr = stmt.targets[0]
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        target = stmt.target
    else:
        return None
    if isinstance(target, ast.Name | ast.Attribute):
        return unparse(target)
    return None


def _shape_claim(comment: Comment, said: ShapeText, index: _Index | None, block: int) -> Claim:
    def claim(subject: str, places: tuple[Placement, ...] = (), reason: str = "") -> Claim:
        return Claim(
            comment.line, comment.text, "shape", subject, block, said.shapes, places, reason
        )

    if index is None:  # the block does not parse: its claims are not run
        return claim(said.label or "")
    if comment.trailing:
        stmt = index.statement_at(comment.line)
        if stmt is None:
            return claim("", reason="no statement on this line")
        if said.form == "subjects":
            return claim(", ".join(said.names), _around(stmt, "after", said.names))
        if said.form == "transition":
            return _transition(claim, stmt)
        if said.form == "operation":
            return _operation(claim, stmt, comment.line)
        node, subject, reason = value_on_line(stmt, comment.line)
        if node is None:
            return claim(subject, reason=reason)
        if isinstance(stmt, ast.AugAssign) and node is stmt.value and _target(stmt):
            target = _target(stmt) or ""  # x += b: the claim is about x afterwards
            return claim(target, _around(stmt, "after", (target,)))
        return claim(subject, (_wrap(node),))
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
        return claim(", ".join(said.names), _around(body[at], "before", said.names))
    return claim(", ".join(said.names), _around(body[-1], "after", said.names))


def _labelled_shape(make: _ClaimMaker, comment: Comment, body: list[ast.stmt], at: int) -> Claim:
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
    target = _target(stmt)
    if target is not None:
        return make(target, _around(stmt, "after", (target,)))
    last = stmt.end_lineno or stmt.lineno
    node, subject, reason = value_on_line(stmt, last) if isinstance(stmt, ast.Expr) else (
        None, "", f"the statement at line {stmt.lineno} has no value and assigns no single name"
    )  # fmt: skip
    if node is None:
        return make(subject, reason=reason)
    return make(subject, (_wrap(node),))


def _around(
    stmt: ast.stmt, where: Literal["before", "after"], names: tuple[str, ...], phase: int = 0
) -> tuple[Placement, ...]:
    return (Insert(stmt.lineno, stmt.col_offset, where, names, phase),)


class _ClaimMaker(Protocol):
    def __call__(
        self, subject: str, places: tuple[Placement, ...] = (), reason: str = ""
    ) -> Claim: ...


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


def _transition(make: _ClaimMaker, stmt: ast.stmt) -> Claim:
    """A claim ``a -> b`` about a statement: its input before it runs, its result after.
    The input is the name it assigns when the statement reads it (``x = x.view(B, -1)``),
    else what its value transforms (``y = self.fc(x)``: ``x``)."""
    target = _target(stmt)
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
    places = _around(stmt, "before", names, 0)
    places += tuple(_wrap(node, "operand", 100 + i) for i, node in enumerate(inner))
    if target is not None:
        places += _around(stmt, "after", (target,), 1)
    elif value is not None and isinstance(stmt, ast.Return | ast.Expr):
        places += (_wrap(value, index=1),)
    else:
        return make("", reason=f"the statement at line {stmt.lineno} has no result to claim")
    subject = target or (unparse(value) if value is not None else "")
    return make(subject, places)


def _operation(make: _ClaimMaker, stmt: ast.stmt, line: int) -> Claim:
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
    places = (_wrap(operands[0]), _wrap(operands[1], index=1), _wrap(node, index=2))
    return make(subject, places)


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
    if after and not after.startswith((*_SEPARATORS, ".", "where", "with")):
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


def _docstring_claims(fence: Fence, tree: ast.Module, lines: list[str]) -> list[Claim]:
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
                places = tuple(_wrap(v) for v in values)
                name = "returned value"
            elif len(node.body) > 1:
                places = _around(node.body[1], "before", (name,))
            else:
                places = _around(first, "after", (name,))
            found.append(
                Claim(line, text, "shape", name, fence.line, (shape,), places, source="docstring")
            )
    return found


def lesson_names(lesson: Lesson) -> frozenset[str]:
    """Every name any block of the lesson binds: what a formula may read."""
    names: set[str] = set()
    for fence in lesson.python_fences:
        tree = parse_block(fence)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return frozenset(names)


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


def _value_claim(
    comment: Comment, kind: str, index: _Index | None, block: int, operands: bool = False
) -> Claim:
    """A claim about the value the commented line produces; on a keyword-argument line of a
    call spread over several lines, about what the call builds."""

    def claim(subject: str, places: tuple[Placement, ...] = (), reason: str = "") -> Claim:
        return Claim(comment.line, comment.text, kind, subject, block, (), places, reason)

    if index is None:
        return claim("")
    stmt = index.statement_at(comment.line)
    if stmt is None:
        return claim("", reason="no statement on this line")
    node, subject, reason = value_on_line(stmt, comment.line)
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    printed = call.args if _is_print(stmt) and isinstance(call, ast.Call) else []
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
    if kind == "formula" and in_place:
        why = f"the in-place {in_place[0]}() changes the formula's inputs as it computes"
        return claim(subject, reason=why)
    if kind == "behaviour":
        call = _keyword_call(stmt, node)
        if call is not None and call.end_lineno != comment.line:
            node = call
            subject = unparse(call.func) + "(...)"
            if isinstance(stmt, ast.Assign) and stmt.value is call:
                subject = unparse(stmt.targets[0])
    places: tuple[Placement, ...] = (_wrap(node),)
    if operands:
        places += tuple(_wrap(n, "operand", i) for i, n in enumerate(_operands(node)))
    return claim(subject, places)


def _call_claim(comment: Comment, index: _Index | None, block: int) -> Claim:
    """A claim about the object whose method the line calls: looked at before and after."""

    def claim(subject: str, places: tuple[Placement, ...] = (), reason: str = "") -> Claim:
        return Claim(comment.line, comment.text, "behaviour", subject, block, (), places, reason)

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
        receiver, _around(stmt, "before", (receiver,), 0) + _around(stmt, "after", (receiver,), 1)
    )


def _example_claims(fence: Fence, index: _Index | None) -> list[Claim]:
    """Doctest examples: the expected output of each, checked as doctest does; an output
    such as ``torch.Size([5, 3])`` is a shape claim about the example's value."""
    found: list[Claim] = []
    for example in fence.examples:
        stmt = index.statement_at(example.line) if index is not None else None
        text = example.want.strip()
        shape = parse_shape(text) if text.startswith(("torch.Size(", "Size(")) else None
        if stmt is None:
            found.append(Claim(example.want_line, text, "output", "", fence.line, source="doctest"))
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
                    (_wrap(stmt.value),),
                    source="doctest",
                )
            )
        else:
            places = _around(stmt, "before", (), 0) + _around(stmt, "after", (), 1)
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
                )
            )
    return found


def example_of(fence: Fence, line: int) -> Example | None:
    return next((e for e in fence.examples if e.want_line == line), None)


def _replaced(fence: Fence, line: int) -> str:
    """Why a claim on ``line`` cannot be checked: a replace directive changed that line."""
    lines = fence.code.split("\n")
    text = lines[line - fence.code_line] if 0 <= line - fence.code_line < len(lines) else ""
    for at, _old, new in fence.directives.replacements:
        if new and new in text:
            return f"the replace directive at line {at} changed this line: it claims the original"
    return ""


# printed values ------------------------------------------------------------------------------
_ARROW = re.compile(r"(?:->|=>|\u2192|\u21d2)\s*")
_OUTPUT_LABEL = re.compile(
    r"(?:expected output|sample output|output|out|prints?|printed|result|"
    r"\u8f93\u51fa\u7ed3\u679c|\u8f93\u51fa|\u6253\u5370\u7ed3\u679c|\u7ed3\u679c)"
    r"\s*(?:[:\uff1a=]|->|=>|\u2192)\s*(.*)",
    re.IGNORECASE | re.DOTALL,
)
_VALUE_START = ("tensor(", "Parameter containing", "torch.Size(", "Size(", "array(")
_NUMBER_TEXT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_RUN = re.compile(rf"{_NUMBER_TEXT}(?:\s*,?\s*{_NUMBER_TEXT})*")
_DTYPE = re.compile(
    r"torch\.(?:float|int|uint|bool|complex|bfloat|half|double|long|short|cfloat|cdouble)\d*"
)
_CONSTANTS = frozenset({"True", "False", "None", "nan", "inf", "-inf"})
_LITERAL_WORDS = _CONSTANTS | {"tensor", "dtype", "torch", "requires_grad", "grad_fn", "Size"}
_LITERAL_CHARS = re.compile(r"[\w\s\[\](){},.:=<>+\-]*")
# what a print shows that depends on the reader's machine, not on the lesson
_MACHINE = re.compile(
    r"cuda|mps|is_available|device|__version__|version|platform|time|perf_counter|getcwd|"
    r"environ|get_device_name|\bid\(|\bhash\(|num_threads|cpu_count|memory"
)
_APPROXIMATE = re.compile(r"[~\u2248]|\b(?:approx\w*|about|around|roughly|e\.g|etc|like)\b")
_RANDOM_CALLS = frozenset(
    {
        "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
        "normal", "normal_", "uniform_", "bernoulli", "bernoulli_", "multinomial", "poisson",
        "random_", "exponential_", "geometric_", "cauchy_", "log_normal_", "dropout",
        "shuffle", "choice", "choices", "sample", "rsample", "random", "uniform", "gauss",
        "permutation", "random_split", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "sparse_",
    }
)  # fmt: skip
SEEDED = "seeded: "  # a note that holds on CPU only: seeded random numbers differ elsewhere
MAX_LINEAGE = 500  # statements looked back through for where a printed value comes from
_SEED_CALLS = frozenset({"manual_seed", "seed", "set_seed", "manual_seed_all"})
# nn layers whose construction draws no random numbers (activations, losses, pooling, norms)
_PLAIN_LAYERS = re.compile(
    r"(?:ReLU\d*|LeakyReLU|PReLU|ELU|SELU|CELU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax\d*d?|"
    r"LogSoftmax|Softplus|Softsign|Hardtanh|Hardswish|Hardsigmoid|Threshold|Identity|Flatten|"
    r"Unflatten|Sequential|ModuleList|ModuleDict|ParameterList|ParameterDict|\w*Loss|"
    r"\w*Pool\d?d?|Upsample\w*|\w*Pad\d?d|BatchNorm\w*|LayerNorm|GroupNorm|InstanceNorm\w*|"
    r"PixelShuffle|PixelUnshuffle|ChannelShuffle|CosineSimilarity|PairwiseDistance)"
)


def _balance(text: str) -> int:
    """Brackets opened and not closed in ``text`` (quoted strings aside)."""
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def looks_like_output(text: str, partial: bool = False) -> bool:
    """Whether comment text reads as what Python prints: ``3``, ``True``, ``torch.float32``,
    ``tensor([1, 4, 9])``, ``[1, 2, 3]``; never a phrase (``print the result``).
    ``partial``: the first line of an output that continues on the next comment lines."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        return False
    if text.startswith(_VALUE_START):
        return partial or _balance(text) == 0
    if _DTYPE.fullmatch(text) or text in _CONSTANTS or _NUMBER_RUN.fullmatch(text):
        return True
    if text[0] not in "[({":
        return False
    plain = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "0", text)
    plain = re.sub(rf"(?<![\w.]){_NUMBER_TEXT}(?![\w])", "0", plain).replace("...", "0")
    words = re.findall(r"[A-Za-z_]\w*", plain)
    if any(w not in _LITERAL_WORDS and not _DTYPE.fullmatch(f"torch.{w}") for w in words):
        return False
    if not _LITERAL_CHARS.fullmatch(plain):
        return False
    opened = _balance(plain)
    return opened == 0 or (partial and opened > 0)


def _is_print(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "print"
    )


def _prints(stmt: ast.stmt) -> bool:
    """A statement that prints: a print, or a loop, ``with`` or ``if`` whose body prints."""
    if _is_print(stmt):
        return True
    if not isinstance(stmt, ast.For | ast.While | ast.With | ast.If | ast.Try):
        return False
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        for n in ast.walk(stmt)
    )


def _print_prefix(stmt: ast.stmt) -> str:
    """The literal text a print starts with (``print(f"Mean: {m}")``: ``Mean:``), or ''."""
    if not _is_print(stmt):
        return ""
    assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
    args = stmt.value.args
    first = args[0] if args else None
    if isinstance(first, ast.JoinedStr) and first.values:
        first = first.values[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return " ".join(first.value.split())
    return ""


def _expected_text(text: str, stmt: ast.stmt | None) -> str | None:
    """The output a comment claims, without its label or arrow; None when it claims none."""
    text = _ARROW.sub("", text.strip(), count=1) if _ARROW.match(text.strip()) else text.strip()
    labelled = _OUTPUT_LABEL.fullmatch(text)
    rest = labelled.group(1).strip() if labelled else text
    if _APPROXIMATE.search(re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", rest)):
        return None  # Mean: ~2.5, about 0.69: an approximate value, not the output
    prefix = _print_prefix(stmt) if stmt is not None else ""
    if prefix and len(prefix) >= 2 and " ".join(rest.split()).startswith(prefix):
        return rest
    return rest if looks_like_output(rest, partial=True) else None


def _printed_places(run: list[ast.stmt]) -> tuple[Placement, ...]:
    """Where stdout is marked (before each statement of ``run``) and read (after the last);
    an expression statement that is no print also shows its value, as a notebook does."""
    places: list[Placement] = [Insert(run[0].lineno, run[0].col_offset, "before", (), 0)]
    places += [Insert(s.lineno, s.col_offset, "before", (), 2) for s in run[1:]]
    last = run[-1]
    if isinstance(last, ast.Expr) and not _is_print(last):
        places.append(_wrap(last.value))
    places.append(Insert(last.lineno, last.col_offset, "after", (), 1))
    return tuple(places)


def _printed_subject(run: list[ast.stmt]) -> str:
    last = run[-1]
    shown = unparse(last.value) if isinstance(last, ast.Expr) else unparse(last).split("\n")[0]
    shown = shown.rstrip(":")
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _print_run(body: list[ast.stmt], at: int, line: int) -> list[ast.stmt]:
    """The statements right above ``line`` whose output a comment there shows: the last one
    (a print, a printing loop, an expression), and the prints just before it."""
    if at <= 0:
        return []
    last = body[at - 1]
    if (last.end_lineno or last.lineno) != line - 1:
        return []
    if not (_prints(last) or isinstance(last, ast.Expr)):
        return []
    run = [last]
    for stmt in reversed(body[: at - 1]):
        if not _is_print(stmt) or (stmt.end_lineno or stmt.lineno) != run[0].lineno - 1:
            break
        run.insert(0, stmt)
    return run


@dataclass
class _Lineage:
    """Top-level statements of a lesson in reader order: where a printed value comes from."""

    # (block, statement, the names it defines, the names it uses or changes)
    statements: list[tuple[int, ast.stmt, frozenset[str], frozenset[str]]]
    random_names: frozenset[str]  # functions and classes whose body draws random numbers
    first_seed: dict[int, int]  # block -> index of its first statement that sets a seed
    starts: list[int] = field(default_factory=list)  # each statement's first line, ascending
    draws: list[bool] = field(default_factory=list)  # each statement draws random numbers

    def __post_init__(self) -> None:
        self.starts = [node.lineno for _, node, _, _ in self.statements]
        self.draws = [
            not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and _draws(node, self.random_names)
            for _, node, _, _ in self.statements
        ]

    @classmethod
    def of(cls, lesson: Lesson) -> _Lineage:
        from harness.static import depends  # depends imports this module

        found: list[tuple[int, ast.stmt, frozenset[str], frozenset[str]]] = []
        for fence in lesson.python_fences:
            for statement in depends.statements(fence):
                uses = statement.uses | statement.changes
                found.append((fence.line, statement.node, statement.defines, uses))
        definitions = [
            child
            for _, node, _, _ in found
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for child in ast.walk(node)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        random: set[str] = set()
        changed = True
        while changed:  # a class that builds a random layer, a function that calls it
            changed = False
            for child in definitions:
                if child.name not in random and _draws(child, random):
                    random.add(child.name)
                    changed = True
        first_seed: dict[int, int] = {}
        for index, (block, node, _, _) in enumerate(found):
            if block not in first_seed and _seeds(node):
                first_seed[block] = index
        return cls(found, frozenset(random), first_seed)

    def note(self, block: int, stmt: ast.stmt) -> str:
        """Why a printed value at ``stmt`` may differ from the reader's: it comes from random
        numbers that the lesson's own seed does not fix for this run ('' when it does)."""
        at = bisect.bisect_right(self.starts, stmt.lineno) - 1
        if at < 0 or self.statements[at][0] != block:
            return ""
        top = self.statements[at][1]
        inside = isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        needed = set(self.statements[at][3])
        seeded = ""  # seeded random numbers: the same on CPU, not on another device
        chain = [at]
        for index in range(at - 1, max(-1, at - 1 - MAX_LINEAGE), -1):
            _, node, defines, uses = self.statements[index]
            if defines & needed or (uses & needed and isinstance(node, ast.Expr)):
                chain.append(index)
                needed |= uses
        if inside:  # a print in a function: any value it is given may be random
            chain = list(range(at, max(-1, at - 1 - MAX_LINEAGE), -1))
        for index in chain:
            where, node, _, _ = self.statements[index]
            if not self.draws[index]:
                continue
            if self.first_seed.get(where, index + 1) > index:
                return (
                    f"the value comes from random numbers drawn at line {node.lineno} with no "
                    "seed set before them in that block: a reader's values differ"
                )
            seeded = SEEDED + f"random numbers drawn at line {node.lineno}"
        return seeded


class _Lazy:
    """A lesson's lineage, made the first time a claim needs it."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.made: _Lineage | None = None

    def get(self) -> _Lineage:
        if self.made is None:
            self.made = _Lineage.of(self.lesson)
        return self.made


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _draws(node: ast.AST, random: frozenset[str] | set[str]) -> bool:
    """Whether code draws random numbers: torch.rand*, random.*, an nn layer with weights,
    a call of a lesson function or class that does."""
    for child in ast.walk(node):
        if not isinstance(child, ast.Call):
            continue
        name = _call_name(child)
        func = child.func
        if name in _RANDOM_CALLS or name in random:
            return True
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("random", "nn")
            and not (func.value.id == "nn" and _PLAIN_LAYERS.fullmatch(name))
        ):
            return True
        if name == "DataLoader" and any(
            k.arg == "shuffle" and not (isinstance(k.value, ast.Constant) and not k.value.value)
            for k in child.keywords
        ):
            return True
    return False


def _seeds(node: ast.AST) -> bool:
    return any(isinstance(c, ast.Call) and _call_name(c) in _SEED_CALLS for c in ast.walk(node))


def _printed_claim(
    comment: Comment, text: str, run: list[ast.stmt], block: int, lineage: _Lazy
) -> Claim:
    note = lineage.get().note(block, run[-1])
    source = " ".join(unparse(s) for s in run)
    machine = _MACHINE.search(source)
    if (not note or note.startswith(SEEDED)) and machine:
        note = f"what it prints depends on the reader's machine ({machine.group(0)})"
    if (not note or note.startswith(SEEDED)) and "0x" in text:
        note = "the output shows a memory address, which differs at every run"
    return Claim(
        comment.line, text, "printed", _printed_subject(run), block, (),
        _printed_places(run), note=note,
    )  # fmt: skip


_COUNTS = frozenset({"parameter_count", "labelled_parameter_count"})
COUNTED = "int:"  # a candidate name whose integer value is itself a parameter count


def _count_claim(comment: Comment, index: _Index | None, block: int, lazy: _Lazy) -> Claim:
    """A parameter count on a line of its own: about the last module built or printed before
    it (or a count computed with ``numel``), looked up where the comment stands."""

    def claim(subject: str, places: tuple[Placement, ...] = (), reason: str = "") -> Claim:
        return Claim(comment.line, comment.text, "behaviour", subject, block, (), places, reason)

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
        elif _is_print(child):
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


def _shape_printed_above(
    comment: Comment, said: ShapeText, index: _Index | None, block: int
) -> Claim | None:
    """``print(x.shape)`` then ``# (2, 3)`` on the next line: a shape claim about the shape
    printed; None when the statement above prints no single shape."""
    position = index.position(comment.line, comment.col) if index is not None else None
    run = _print_run(*position, comment.line) if position is not None else []
    if len(run) != 1 or not _is_print(run[0]):
        return None
    node, subject, _ = value_on_line(run[0], run[0].end_lineno or run[0].lineno)
    if node is None:
        return None
    return Claim(comment.line, comment.text, "shape", subject, block, said.shapes, (_wrap(node),))


def _find_printed(
    comment: Comment,
    following: list[Comment],
    index: _Index | None,
    block: int,
    lineage: _Lazy,
    consumed: set[int],
    unlabelled: bool = False,
) -> Claim | None:
    """A printed-value claim: a trailing comment on a print or an expression statement, or an
    own-line ``# Output: ...`` (its further lines below it) right after the statements that
    print it; None when the comment is not one."""
    if index is None:
        return None
    if comment.trailing:
        stmt = index.statement_at(comment.line)
        if not isinstance(stmt, ast.Expr) or stmt.end_lineno != comment.line:
            return None
        text = _expected_text(comment.text, stmt)
        if text is None or _balance(text) != 0:
            return None
        return _printed_claim(comment, text, [stmt], block, lineage)
    position = index.position(comment.line, comment.col)
    run = _print_run(*position, comment.line) if position is not None else []
    if not run:
        return None
    said = comment.text.strip()
    said = _ARROW.sub("", said, count=1) if _ARROW.match(said) else said
    labelled = _OUTPUT_LABEL.fullmatch(said)
    bare = unlabelled and looks_like_output(said, partial=True)
    if labelled is None and not said.startswith(_VALUE_START) and not bare:
        return None
    lines = [labelled.group(1).strip() if labelled else said]
    lines = [line for line in lines if line]
    last, taken = comment.line, []
    for after in following:
        if after.trailing or after.line != last + 1 or after.col != comment.col:
            break
        still_open = bool(lines) and _balance("\n".join(lines)) > 0
        if not still_open and not looks_like_output(after.text, partial=True):
            break
        lines.append(after.text)
        taken.append(after.line)
        last = after.line
    text = "\n".join(lines)
    if not text or _balance(text) != 0 or _expected_text(text.replace("\n", " "), run[-1]) is None:
        return None
    consumed.update(taken)
    found = _printed_claim(comment, text, run, block, lineage)
    if labelled is None and not said.startswith(_VALUE_START):  # '#  [1, 2]': its rows?
        why = "a comment below a print without an `Output:` label may not show its output"
        found = replace(found, note=why)
    return found


def read_comments(lesson: Lesson) -> tuple[list[Claim], list[Comment]]:
    """Every claim of every Python block in line order, and the comments that are prose.

    A comment is a shape claim, a formula, a named behaviour (``behaviours.REGISTRY``), or
    prose; docstring entries and doctest outputs are claims too.
    """
    lines = source_lines(lesson.source)
    known = lesson_names(lesson)
    lineage = _Lazy(lesson)
    found: list[Claim] = []
    prose: list[Comment] = []
    for fence in lesson.python_fences:
        tree = parse_block(fence)
        index = _Index(tree) if tree is not None else None
        block_comments = comments(fence.code, fence.code_line)
        consumed: set[int] = set()  # further lines of an output claimed above them
        for position, comment in enumerate(block_comments):
            if comment.line in consumed:
                continue
            if len(comment.text) > MAX_TEXT:  # prose: no claim is that long
                prose.append(comment)
                continue
            following = block_comments[position + 1 : position + 40]
            said = read_shape_comment(comment.text)
            if said is not None and said.form in ("subjects", "labelled") and said.names:
                roots = {name.split(".")[0] for name in said.names}
                if not roots <= known and said.label == DESCRIBED:
                    said = None  # 'it is a tensor of shape (2, 3)': prose
                elif not roots <= known and {r.lower() for r in roots} <= _VALUE_LABELS:
                    # Output: torch.Size([2, 3]): a label of the value, no variable
                    said = replace(said, form="labelled", names=())
                elif not roots <= known:  # Input: [B, 10]: about no value on the line
                    said = replace(said, form="subjects")
                else:  # output shape: [...] where the lesson has a variable `output`
                    said = replace(said, form="subjects")
            named = behaviours.read(comment.text) if comment.trailing else None
            own_count = None
            if said is None and not comment.trailing:  # Total: 2,359,296 parameters
                own_count = behaviours.read(comment.text)
                if own_count and any(b.name not in _COUNTS for b, _ in own_count):
                    own_count = None
            formula = None
            if said is None and comment.trailing:
                formula = parse_formula(comment.text, known)
            unusable = ""
            if said is not None:
                shape = _shape_claim(comment, said, index, fence.line)
                printed = None
                if shape.reason.startswith("the line prints no .shape"):  # print(x.tolist())
                    printed = _find_printed(comment, [], index, fence.line, lineage, consumed)
                elif shape.reason.startswith("a shape on a line of its own"):
                    shape = _shape_printed_above(comment, said, index, fence.line) or shape
                    if shape.reason:  # print(m) then '#  [1, 2]', '#  [3, 4]': its rows
                        printed = _find_printed(
                            comment, following, index, fence.line, lineage, consumed, True
                        )
                found.append(printed or shape)
            elif formula is not None:
                found.append(_value_claim(comment, "formula", index, fence.line))
                unusable = formula.reason
            elif named and named[0][0].place == "call":
                found.append(_call_claim(comment, index, fence.line))
            elif own_count:
                found.append(_count_claim(comment, index, fence.line, lineage))
                unusable = behaviours.oversized(own_count)
            elif named:
                operands = any(b.operands for b, _ in named)
                found.append(_value_claim(comment, "behaviour", index, fence.line, operands))
                unusable = behaviours.oversized(named)
            else:
                printed = _find_printed(comment, following, index, fence.line, lineage, consumed)
                if printed is None:
                    prose.append(comment)
                    continue
                found.append(printed)
            why = unusable or _replaced(fence, comment.line)
            if why:
                found[-1] = replace(found[-1], places=(), reason=why)
        if tree is not None:
            found.extend(_docstring_claims(fence, tree, lines))
        found.extend(_example_claims(fence, index))
    return sorted(found, key=lambda c: c.line), prose


def find_claims(lesson: Lesson) -> list[Claim]:
    """Every claim of every Python block, in line order."""
    return read_comments(lesson)[0]
