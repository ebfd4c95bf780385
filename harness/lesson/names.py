"""The names Python code binds: one walk over a block's AST, filtered by what each reader needs.

``bindings`` is the walk; the functions below it are the questions asked of it: every name a
lesson binds (what a formula may read), the names a top-level statement puts in the module
namespace (the dependency map), the names a block binds at its top level (what a failed block
leaves undefined).
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.lesson.read import Lesson


class Binds(enum.Flag):
    """What kind of binding a name comes from."""

    ASSIGN = enum.auto()  # a Name stored to: assignment, for, with, walrus, comprehension
    DELETE = enum.auto()  # a Name deleted: del x
    PARAMETER = enum.auto()  # ast.arg: a def's or a lambda's parameter, *args, **kwargs
    IMPORT = enum.auto()  # ast.alias: ``as`` name, else the first part of the dotted name
    DEFINITION = enum.auto()  # def, async def, class
    HANDLER = enum.auto()  # except E as name
    ANY = ASSIGN | DELETE | PARAMETER | IMPORT | DEFINITION | HANDLER


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def bindings(node: ast.AST) -> Iterator[tuple[Binds, str]]:
    """Every binding anywhere inside ``node`` (nested defs, lambdas and comprehensions
    included), with its kind."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            if isinstance(child.ctx, ast.Store):
                yield Binds.ASSIGN, child.id
            elif isinstance(child.ctx, ast.Del):
                yield Binds.DELETE, child.id
        elif isinstance(child, ast.arg):
            yield Binds.PARAMETER, child.arg
        elif isinstance(child, ast.alias):
            yield Binds.IMPORT, (child.asname or child.name).split(".")[0]
        elif isinstance(child, _DEFINITIONS):
            yield Binds.DEFINITION, child.name
        elif isinstance(child, ast.ExceptHandler) and child.name:
            yield Binds.HANDLER, child.name


def names_bound(node: ast.AST, kinds: Binds = Binds.ANY) -> frozenset[str]:
    """The names of ``node``'s bindings whose kind is one of ``kinds``."""
    return frozenset(name for kind, name in bindings(node) if kind & kinds)


def module_names(stmt: ast.stmt) -> frozenset[str]:
    """Names a top-level statement binds in the module namespace: a def or class its name, an
    import its aliases, anything else the names it stores, imports or defines inside it."""
    if isinstance(stmt, _DEFINITIONS):
        return frozenset({stmt.name})
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return names_bound(stmt, Binds.IMPORT)
    return names_bound(stmt, Binds.ASSIGN | Binds.IMPORT | Binds.DEFINITION)


def block_names(tree: ast.Module) -> frozenset[str]:
    """Names a block binds at its top level: assignments and imports in each top-level
    statement (inside its defs too), and the names of its top-level defs and classes."""
    names: set[str] = set()
    for stmt in tree.body:
        names |= names_bound(stmt, Binds.ASSIGN | Binds.IMPORT)
        if isinstance(stmt, _DEFINITIONS):
            names.add(stmt.name)
    return frozenset(names)


def lesson_names(lesson: Lesson) -> frozenset[str]:
    """Every name any Python block of the lesson stores, takes as a parameter or imports:
    what a formula may read."""
    kinds = Binds.ASSIGN | Binds.PARAMETER | Binds.IMPORT
    names: set[str] = set()
    for fence in lesson.python_fences:
        if fence.tree is not None:
            names |= names_bound(fence.tree, kinds)
    return frozenset(names)
