"""The registry of claim kinds: one module per kind, tried in order on every comment.

A comment goes to the first kind that reads it, else it is prose. The kinds that come with
harness are registered here, in this order: ``shape``, ``formula``, ``behaviour``,
``printed``, then ``output`` (doctest outputs, which no comment makes). A new kind is one
module that subclasses ``Kind`` and calls ``register`` when imported; ``load`` imports it
(by module name or file path) and names it in ``HARNESS_CLAIM_KINDS``, so the worker
processes started afterwards, which find the claims again, load it too.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

from harness.claims.kinds.base import Bindings as Bindings
from harness.claims.kinds.base import Checker as Checker
from harness.claims.kinds.base import Kind as Kind
from harness.claims.kinds.base import Reading as Reading
from harness.claims.kinds.base import Run as Run
from harness.claims.model import Claim

ENVIRONMENT = "HARNESS_CLAIM_KINDS"  # kind modules to load, separated by os.pathsep
_KINDS: list[Kind] = []


def register(kind: Kind, before: str | None = None) -> Kind:
    """Add ``kind`` (in place of a kind of the same name), tried just before the kind named
    ``before``, else after every other."""
    if not kind.name:
        raise ValueError("a claim kind needs a name")
    unregister(kind.name)
    names = [k.name for k in _KINDS]
    _KINDS.insert(names.index(before) if before in names else len(_KINDS), kind)
    return kind


def unregister(name: str) -> None:
    _KINDS[:] = [k for k in _KINDS if k.name != name]


def reading_order() -> tuple[Kind, ...]:
    return tuple(_KINDS)


def named(name: str) -> Kind:
    """The registered kind called ``name`` (KeyError when none is)."""
    for kind in _KINDS:
        if kind.name == name:
            return kind
    raise KeyError(f"no claim kind named {name!r} is registered")


def of(claim: Claim) -> Kind:
    return named(claim.kind)


def _import(source: str, again: bool = False) -> None:
    """Import a kind module (``again``: run it again if it was, to register its kinds anew)."""
    if not source.endswith(".py"):
        module = importlib.import_module(source)
        if again:
            importlib.reload(module)
        return
    path = Path(source).resolve()
    name = f"harness_claim_kind_{abs(hash(str(path)))}"
    if name in sys.modules and not again:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a claim kind from {source}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)


def load(source: str) -> None:
    """Import the kind module ``source`` (a dotted module name, or a ``.py`` file), which
    registers its kinds, and name it in ``HARNESS_CLAIM_KINDS`` for worker processes."""
    source = source if not source.endswith(".py") else str(Path(source).resolve())
    _import(source, again=True)
    named_ = [s for s in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if s]
    if source not in named_:
        os.environ[ENVIRONMENT] = os.pathsep.join([*named_, source])


def _builtin() -> None:
    from harness.claims.kinds import behaviour, formula, output, printed, shape

    for kind in (shape.SHAPE, formula.FORMULA, behaviour.BEHAVIOUR, printed.PRINTED):
        register(kind)
    register(output.OUTPUT)


_builtin()
for _source in os.environ.get(ENVIRONMENT, "").split(os.pathsep):
    if _source:
        _import(_source)
