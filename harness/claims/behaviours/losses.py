"""Value behaviours that name a loss: checked by calling it on sample tensors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from harness.claims.behaviours.registry import Context, value
from harness.claims.behaviours.tensors import (
    kind_name,
    load_torch,
    sample_inputs,
    shape_list,
)
from harness.claims.outcome import Outcome, failed, passed, unchecked


def _loss_check(
    loss: Any, name: str, compute: Callable[[Any, Any], Any], integers: bool = False
) -> Outcome:
    """``loss`` called on sample tensors equals ``compute`` on them (targets: class indices
    when ``integers``)."""
    if not callable(loss):
        return unchecked(f"a {kind_name(loss)} is not a loss to call")
    torch = load_torch()
    outputs = sample_inputs(4, 5)
    targets = sample_inputs(4, integers=5, seed=1) if integers else sample_inputs(4, 5, seed=1)
    try:
        with torch.no_grad():
            got = loss(outputs, targets)
    except Exception as error:
        return failed(name, f"{type(error).__name__}: {error}".splitlines()[0])
    want = compute(outputs, targets)
    if shape_list(got) == [] and torch.allclose(got.double(), want.double(), rtol=1e-5):
        return passed(name, f"{float(got):.6g} on sample tensors")
    shown = f"{float(got):.6g}" if shape_list(got) == [] else f"shape {shape_list(got)}"
    return failed(f"{name} = {float(want):.6g} on sample tensors", shown)


@value(r"mean squared error|mse(?: loss)?|l2 loss")
def mean_squared_error(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    return _loss_check(loss, "mean squared error", lambda a, b: ((a - b) ** 2).mean())


@value(r"mean absolute error|mae(?: loss)?|l1 loss")
def mean_absolute_error(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    return _loss_check(loss, "mean absolute error", lambda a, b: (a - b).abs().mean())


@value(r"multi-?class(?: classification)?|(?:categorical )?cross[- ]entropy")
def multi_class(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    def entropy(logits: Any, labels: Any) -> Any:
        return -logits.log_softmax(-1).gather(1, labels.unsqueeze(1)).mean()

    return _loss_check(loss, "cross entropy over classes", entropy, integers=True)


@value(r"binary(?: classification| cross[- ]entropy)?")
def binary(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    """Binary cross entropy, on logits (BCEWithLogitsLoss) or on probabilities (BCELoss)."""
    if not callable(loss):
        return unchecked(f"a {kind_name(loss)} is not a loss to call")
    torch = load_torch()
    logits = sample_inputs(8)
    targets = sample_inputs(8, integers=2, seed=1).float()
    probabilities = logits.sigmoid()
    want = -(targets * probabilities.log() + (1 - targets) * (1 - probabilities).log()).mean()
    tried: list[str] = []
    for inputs, what in ((logits, "logits"), (probabilities, "probabilities")):
        try:
            with torch.no_grad():
                got = loss(inputs, targets)
        except Exception as error:
            tried.append(f"on {what}: {type(error).__name__}")
            continue
        if shape_list(got) == [] and torch.allclose(got.double(), want.double(), rtol=1e-5):
            return passed("binary cross entropy", f"{float(got):.6g} on {what}")
        tried.append(
            f"on {what}: {float(got):.6g}"
            if shape_list(got) == []
            else f"on {what}: shape {shape_list(got)}"
        )
    return failed(f"binary cross entropy = {float(want):.6g}", "; ".join(tried))
