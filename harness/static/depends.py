"""What each block needs from earlier blocks: the dependency map, from the blocks' ASTs.

A *Statement* is one top-level statement of a Python block. For each block we find the names
it uses before defining them; each such name comes from the latest earlier statement that
defines it, which may need names of its own, and so on. Earlier statements that change a
needed object (``x.attr = ...``, ``x[i] = ...``, ``x.method(...)``) come along, conservatively.
Imports count as definitions.
"""

from __future__ import annotations

import ast
import bisect
import builtins
from dataclasses import dataclass, replace

from harness.lesson import Fence, Lesson, module_names, names_bound

BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__"}


@dataclass(frozen=True)
class Statement:
    block: int  # line of the block's opening fence
    index: int  # position in its block
    node: ast.stmt
    defines: frozenset[str]
    uses: frozenset[str]
    changes: frozenset[str]
    effect: bool = False  # changes the process, not a name: torch.set_default_dtype(...)

    @property
    def line(self) -> int:
        return self.node.lineno


@dataclass(frozen=True)
class Need:
    name: str
    line: int  # the statement that defines it


@dataclass(frozen=True)
class Dependencies:
    block: int
    needs: tuple[Need, ...]  # names the block borrows directly
    statements: tuple[Statement, ...]  # every earlier statement it needs, in lesson order


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changes(node: ast.stmt) -> set[str]:
    """Objects a statement changes without rebinding them."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        if isinstance(call.func, ast.Attribute):
            targets = [call.func.value]
        if not (isinstance(call.func, ast.Name) and call.func.id in BUILTINS):
            # f(model, data): a function may change what it is given (train(model, loader))
            targets += [*call.args, *(kw.value for kw in call.keywords)]
    names = set()
    for target in targets:
        if isinstance(target, ast.Attribute | ast.Subscript) or isinstance(node, ast.Expr):
            root = _root(target)
            if root is not None:
                names.add(root)
    return names


def _uses(node: ast.stmt) -> set[str]:
    """Names a statement reads before it binds them itself."""
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        # the value is evaluated first; target subscripts and attributes read their roots
        parts: list[ast.AST] = [node.value] if node.value is not None else []
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        parts += [t for t in targets if not isinstance(t, ast.Name | ast.Tuple | ast.List)]
        loads = {n for part in parts for n in _loads(part)}
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            loads.add(node.target.id)
        return loads - BUILTINS
    local = names_bound(node) - module_names(node)  # parameters and locals of defs inside
    first_store: dict[str, tuple[int, int]] = {}
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            where = (child.lineno, child.col_offset)
            first_store[child.id] = min(where, first_store.get(child.id, where))
    used = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            stored = first_store.get(child.id)
            if stored is None or (child.lineno, child.col_offset) < stored:
                used.add(child.id)
    return used - local - BUILTINS


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def statements(fence: Fence) -> list[Statement]:
    tree = fence.tree
    if tree is None:
        return []
    return [
        Statement(
            fence.line,
            index,
            node,
            module_names(node),
            frozenset(_uses(node)),
            frozenset(_changes(node)),
        )
        for index, node in enumerate(tree.body)
    ]


def _effect(statement: Statement, imported: set[str]) -> bool:
    """A call of a module's function that changes nothing but modules: process-wide state
    (``torch.set_default_dtype(torch.float64)``, ``torch.manual_seed(0)``). Every later
    block needs it, even one that imports torch again."""
    node = statement.node
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    root = _root(func.value) if isinstance(func, ast.Attribute) else None
    return root in imported and statement.changes <= imported


class _Earlier:
    """The statements seen so far, indexed by the names they define and change, so that
    finding the latest definition or the changes between two positions is a bisection:
    the map of a 3,000-block lesson takes linear time in what it finds."""

    def __init__(self) -> None:
        self.ordered: list[Statement] = []
        self.defining: dict[str, list[int]] = {}
        self.changing: dict[str, list[int]] = {}
        self.effects: list[int] = []

    def __len__(self) -> int:
        return len(self.ordered)

    def add(self, statement: Statement) -> None:
        position = len(self.ordered)
        self.ordered.append(statement)
        for name in statement.defines:
            self.defining.setdefault(name, []).append(position)
        for name in statement.changes:
            self.changing.setdefault(name, []).append(position)
        if statement.effect:
            self.effects.append(position)

    def latest(self, name: str, before: int) -> int | None:
        """The last statement before position ``before`` that defines ``name``."""
        positions = self.defining.get(name, [])
        index = bisect.bisect_left(positions, before)
        return positions[index - 1] if index else None

    def changers(self, name: str, after: int, before: int) -> list[int]:
        """Statements strictly between ``after`` and ``before`` that change ``name``."""
        positions = self.changing.get(name, [])
        low = bisect.bisect_right(positions, after)
        return positions[low : bisect.bisect_left(positions, before)]


def dependency_map(lesson: Lesson) -> dict[int, Dependencies]:
    """For every Python block (by fence line), what it needs from earlier blocks."""
    earlier = _Earlier()
    result: dict[int, Dependencies] = {}
    imported: set[str] = set()
    for fence in lesson.python_fences:
        own = []
        for statement in statements(fence):
            if isinstance(statement.node, ast.Import | ast.ImportFrom):
                imported |= statement.defines
            own.append(replace(statement, effect=_effect(statement, imported)))
        needs: dict[str, Need] = {}
        defined: set[str] = set()
        for statement in own:
            for name in sorted(statement.uses - defined):
                source = earlier.latest(name, len(earlier))
                if source is not None and name not in needs:
                    needs[name] = Need(name, earlier.ordered[source].line)
            defined |= statement.defines
        wanted = _closure(earlier, own)
        result[fence.line] = Dependencies(
            fence.line, tuple(sorted(needs.values(), key=lambda n: (n.line, n.name))), wanted
        )
        if fence.directives.skip is not None:  # never runs (a skip, another d2l tab)
            continue
        for statement in own:
            earlier.add(statement)
    return result


def _closure(earlier: _Earlier, own: list[Statement]) -> tuple[Statement, ...]:
    """Earlier statements needed by ``own``: definitions, their needs, and changes to them."""
    ordered = earlier.ordered
    chosen = set(earlier.effects)
    # (statement's uses, how many earlier statements it may draw on)
    work = [(ordered[p].uses | ordered[p].changes, p) for p in chosen]
    defined: set[str] = set()
    for statement in own:
        work.append((frozenset(statement.uses - defined), len(ordered)))
        defined |= statement.defines
    while work:
        names, before = work.pop()
        for name in names:
            source = earlier.latest(name, before)
            if source is None:
                continue
            for position in [source, *earlier.changers(name, source, before)]:
                if position not in chosen:
                    chosen.add(position)
                    work.append((ordered[position].uses | ordered[position].changes, position))
    return tuple(ordered[p] for p in sorted(chosen))
