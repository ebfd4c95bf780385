"""Call behaviours of a training step: gradients cleared, computed, weights updated."""

from __future__ import annotations

import re
from typing import Any

from harness.claims.behaviours.registry import call
from harness.claims.behaviours.tensors import (
    kind_name,
    parameters_of,
)
from harness.claims.outcome import Outcome, failed, passed, unchecked


def _gradient_owners(match: re.Match[str], owner: Any) -> Any:
    """A tensor's gradients are those of the leaves it was computed from."""
    return _leaves(match, owner) if getattr(owner, "grad_fn", None) is not None else None


def clear_previous_gradients(match: re.Match[str], owner: Any, leaves: Any) -> Outcome:
    params = leaves if leaves is not None else parameters_of(owner)
    if params is None:
        return unchecked(f"a {kind_name(owner)} holds no parameters")
    left = [p for p in params if p.grad is not None and bool(p.grad.any())]
    if left:
        return failed(
            "every gradient None or zero",
            f"{len(left)} of {len(params)} non-zero",
            f"expected every gradient None or zero after the call, got {len(left)} of "
            f"{len(params)} parameters with non-zero gradients",
        )
    return passed("every gradient None or zero", f"{len(params)} parameters cleared")


call(r"(?:clear|reset|zero)(?: out)?(?: the| all)?(?: previous| old| accumulated)? grad(?:ient)?s")(
    (_gradient_owners, clear_previous_gradients)
)


def _leaves(match: re.Match[str], tensor: Any) -> Any:
    """The leaf tensors the call's tensor was computed from (its autograd graph)."""
    function = getattr(tensor, "grad_fn", None)
    found: list[Any] = []
    # Node objects are made on each read of ``next_functions``: a visited one is kept alive
    # here, or a later node may take its freed id and be skipped as seen (torch 2.11 did).
    seen: dict[int, Any] = {}
    stack = [function] if function is not None else []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(next_fn for next_fn, _ in getattr(node, "next_functions", ()))
    return found


def compute_gradients(match: re.Match[str], tensor: Any, leaves: Any) -> Outcome:
    if not leaves:
        return failed(
            "gradients for the tensors it was computed from",
            "no autograd graph",
            f"expected a tensor with an autograd graph, got a {kind_name(tensor)} with none",
        )
    missing = [leaf for leaf in leaves if leaf.grad is None]
    if missing:
        return failed(
            "a gradient on every parameter",
            f"{len(missing)} of {len(leaves)} without",
            f"expected every parameter to have a gradient after the call, got {len(missing)} "
            f"of {len(leaves)} without",
        )
    return passed("a gradient on every parameter", f"{len(leaves)} parameters")


call(r"(?:compute|calculate)s?(?: all)?(?: the)? grad(?:ient)?s|backprop(?:agation|agate)?")(
    (_leaves, compute_gradients)
)


def _copies(match: re.Match[str], owner: Any) -> Any:
    params = parameters_of(owner)
    return None if params is None else [p.detach().clone() for p in params]


def update_weights(match: re.Match[str], owner: Any, before: Any) -> Outcome:
    params = parameters_of(owner)
    if params is None or before is None:
        return unchecked(f"a {kind_name(owner)} holds no parameters")
    changed = sum(
        1 for old, new in zip(before, params, strict=True) if not bool((old == new).all())
    )
    if not changed:
        return failed(
            "the parameters change",
            f"0 of {len(params)} changed",
            f"expected the parameters to change, got 0 of {len(params)} changed",
        )
    return passed("the parameters change", f"{changed} of {len(params)} changed")


call(r"(?:update|updates|step)(?: the)? (?:weights|parameters|params)")((_copies, update_weights))
