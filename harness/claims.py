"""Find the claims a block's comments and docstrings make, and where in its code each applies.

A *Claim* is one promise at one lesson line. Finding is static (tokenize + ast, no torch):
the comment text says what is claimed, the code around it says about what, and ``place``
says where a probe must look at the running program (see ``instrument``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from harness import behaviours
from harness.formulas import parse_formula
from harness.lesson import Example, Fence, Lesson, source_lines
from harness.shapes import MAX_TEXT, Shape, find_shape, parse_named_dims, parse_shape

KINDS = ("shape", "formula", "behaviour", "output")


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


@dataclass(frozen=True)
class Comment:
    line: int
    col: int
    text: str
    trailing: bool


_SUBJECTS = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*")
_DOC_ENTRY = re.compile(r"\s*([A-Za-z_]\w*)\s*:\s*(.+?)\s*$")
_SEPARATORS = ("-", "\u2013", "\u2014", "(", ",", ";", "#")


@dataclass(frozen=True)
class ShapeText:
    """What a comment says, before we know what code it is about."""

    form: Literal["value", "named", "subjects", "transition", "label"]
    shapes: tuple[Shape, ...]
    names: tuple[str, ...] = ()
    label: str = ""


def read_shape_comment(text: str) -> ShapeText | None:
    """Classify comment text as a shape claim, or None when it is not one."""
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
    prefix, after = text[:start].strip(), text[end:].strip()
    if after.startswith("->"):
        second = find_shape(after[2:])
        if second is None or after[2:][: second[0]].strip():
            return None
        return ShapeText("transition", (first, second[2]), label=prefix.rstrip(":").strip())
    if after and not after.startswith(_SEPARATORS):
        return None
    if not prefix:
        return ShapeText("value", (first,))
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
    if said.form == "transition":
        if at >= len(body):
            return claim(said.label, reason="no statement follows this transition")
        return _transition(claim, body[at])
    if said.form != "subjects":
        return claim(
            said.label,
            reason="a shape on a line of its own names no variable: write `name: [...]`",
        )
    if at < len(body):
        return claim(", ".join(said.names), _around(body[at], "before", said.names))
    return claim(", ".join(said.names), _around(body[-1], "after", said.names))


def _around(
    stmt: ast.stmt, where: Literal["before", "after"], names: tuple[str, ...], phase: int = 0
) -> tuple[Placement, ...]:
    return (Insert(stmt.lineno, stmt.col_offset, where, names, phase),)


class _ClaimMaker(Protocol):
    def __call__(
        self, subject: str, places: tuple[Placement, ...] = (), reason: str = ""
    ) -> Claim: ...


def _transition(make: _ClaimMaker, stmt: ast.stmt) -> Claim:
    target = _target(stmt)
    if target is None:
        return make("", reason=f"the statement at line {stmt.lineno} assigns no single name")
    places = _around(stmt, "before", (target,), 0) + _around(stmt, "after", (target,), 1)
    return make(target, places)


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
        for line in range(first.lineno, (first.end_lineno or first.lineno) + 1):
            text = lines[line - 1] if line - 1 < len(lines) else ""
            match = _DOC_ENTRY.fullmatch(text) if len(text) <= MAX_TEXT else None
            shape = parse_shape(match.group(2)) if match else None
            if match is None or shape is None:
                continue
            name = match.group(1)
            text = lines[line - 1].strip()
            if len(node.body) > 1:
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


def read_comments(lesson: Lesson) -> tuple[list[Claim], list[Comment]]:
    """Every claim of every Python block in line order, and the comments that are prose.

    A comment is a shape claim, a formula, a named behaviour (``behaviours.REGISTRY``), or
    prose; docstring entries and doctest outputs are claims too.
    """
    lines = source_lines(lesson.source)
    known = lesson_names(lesson)
    found: list[Claim] = []
    prose: list[Comment] = []
    for fence in lesson.python_fences:
        tree = parse_block(fence)
        index = _Index(tree) if tree is not None else None
        for comment in comments(fence.code, fence.code_line):
            if len(comment.text) > MAX_TEXT:  # prose: no claim is that long
                prose.append(comment)
                continue
            said = read_shape_comment(comment.text)
            named = behaviours.read(comment.text) if comment.trailing else None
            formula = None
            if said is None and comment.trailing:
                formula = parse_formula(comment.text, known)
            unusable = ""
            if said is not None:
                found.append(_shape_claim(comment, said, index, fence.line))
            elif formula is not None:
                found.append(_value_claim(comment, "formula", index, fence.line))
                unusable = formula.reason
            elif named and named[0][0].place == "call":
                found.append(_call_claim(comment, index, fence.line))
            elif named:
                operands = any(b.operands for b, _ in named)
                found.append(_value_claim(comment, "behaviour", index, fence.line, operands))
                unusable = behaviours.oversized(named)
            else:
                prose.append(comment)
                continue
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
