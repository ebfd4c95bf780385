"""Value behaviours that count parameters: ``2.4M parameters``, ``Total: 2,359,296 parameters``."""

from __future__ import annotations

import math
import re
from typing import Any

from harness.claims.behaviours.registry import REGISTRY, Context, value
from harness.claims.behaviours.tensors import (
    is_module,
    kind_name,
)
from harness.claims.outcome import Outcome, failed, passed, unchecked


@value(
    r"(~|about |approx\.? |approximately )?(\d[\d,_]*(?:\.\d+)?)\s*([KMB])? "
    r"(?:trainable )?param(?:eter)?s"
)
def parameter_count(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """Exact as written (``2,359,296``); ``K``/``M``/``B`` at the written precision; ``~`` 5%."""
    digits = match.group(2).replace(",", "").replace("_", "")
    scale = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9}[(match.group(3) or "").upper()]
    claimed = float(digits) * scale
    if not math.isfinite(claimed):  # read() callers skip these (oversized): never passed
        return unchecked(f"{match.group(0)[:40]} overflows a float")
    bias = 0
    if is_module(value_):
        count = sum(p.numel() for p in value_.parameters())
        bias = sum(p.numel() for n, p in value_.named_parameters() if n.endswith("bias"))
    elif isinstance(value_, int) and not isinstance(value_, bool):
        count = value_
    else:
        return unchecked(f"a {kind_name(value_)} has no parameters to count")
    if match.group(1):
        ok = abs(count - claimed) <= 0.05 * claimed
        rule = "within 5%"
    elif scale > 1:
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        ok = round(count / scale, decimals) == float(digits)
        rule = "at the written precision"
    else:
        ok = count == claimed
        rule = "exactly"
    shown = f"{count:,} parameters"
    if ok:
        return passed(f"{match.group(0)} ({rule})", shown)
    hint = ""
    if bias and count - claimed == bias:
        hint = f"; the biases ({bias:,}) make the difference: the claim leaves them out"
    return failed(match.group(0), shown, f"expected {match.group(0)} ({rule}), got {shown}{hint}")


_COUNTED = r"(~|about |approx\.? |approximately )?(\d[\d,_]*(?:\.\d+)?)\s*([KMB])?"


@value(r"total\s*[:=\uff1a]\s*" + _COUNTED + r"\s*(?:trainable )?param(?:eter)?s")
@value(
    r"(?:(?:total |number of |# ?of |num )*(?:trainable )?param(?:eter)?s?(?: count)?|"
    r"\u53c2\u6570\u91cf|\u53c2\u6570\u6570\u91cf|\u53c2\u6570\u603b\u6570|\u53c2\u6570)\s*[:=\uff1a]\s*"
    + _COUNTED
    + r"(?:\s*(?:trainable )?param(?:eter)?s)?"
)
def labelled_parameter_count(match: re.Match[str], value_: Any, context: Context) -> Outcome | None:
    """``Total: 2,359,296 parameters``, ``Parameters: 2.4M``: a parameter count after a
    label, checked as ``2,359,296 parameters`` is."""
    phrase = f"{match.group(1) or ''}{match.group(2)}{match.group(3) or ''} parameters"
    plain = next(b for b in REGISTRY if b.name == "parameter_count")
    found = plain.pattern.fullmatch(phrase)
    if found is None:  # pragma: no cover - the phrase is built to match
        return unchecked(f"cannot read {match.group(0)!r} as a parameter count")
    return parameter_count(found, value_, context)
