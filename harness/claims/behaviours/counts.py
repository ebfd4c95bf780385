"""The value behaviour ``N <noun>`` (``100 time steps``, ``64 hidden units``)."""

from __future__ import annotations

import re
from typing import Any

from harness.claims.behaviours.registry import NUMBER, Context, number, value
from harness.claims.behaviours.tensors import (
    is_module,
    kind_name,
    shape_list,
)
from harness.claims.outcome import Outcome, failed, passed, unchecked

NOUNS: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "rows": (0, ()),
    "columns": (-1, ()),
    "time steps": (None, ()),
    "timesteps": (None, ()),
    "steps": (None, ()),
    "tokens": (None, ()),
    "words": (None, ()),
    "frames": (None, ()),
    "features": (-1, ("out_features",)),
    "input features": (-1, ("in_features", "input_size")),
    "output features": (-1, ("out_features",)),
    "hidden units": (-1, ("out_features", "hidden_size")),
    "units": (-1, ("out_features", "hidden_size")),
    "neurons": (-1, ("out_features",)),
    "channels": (None, ("out_channels",)),
    "heads": (None, ("num_heads",)),
    "layers": (None, ("num_layers",)),
    "epochs": (None, ()),
    "elements": (None, ()),
    "values": (None, ()),
    "points": (None, ()),
    "sequences": (0, ()),
    "sentences": (0, ()),
}


@value(NUMBER + r" (" + "|".join(sorted(map(re.escape, NOUNS), key=len, reverse=True)) + r")")
def count(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """``100 time steps``, ``64 hidden units``: a count of a known noun. An integer equal to
    N; a range or list N long; a layer's attribute that counts it (``num_layers``); or a
    tensor whose dimension for that noun (any, for ``time steps``) has size N."""
    want, things = number(match.group(1)), match.group(2).lower()
    phrase = match.group(0)
    dimension, attributes = NOUNS[things]
    if isinstance(value_, int) and not isinstance(value_, bool):
        return passed(phrase) if value_ == want else failed(phrase, f"{value_}")
    if isinstance(value_, range | list | tuple):
        size = len(value_)
        return passed(phrase) if size == want else failed(phrase, f"{size} ({kind_name(value_)})")
    if is_module(value_):
        for name in attributes:
            got = getattr(value_, name, None)
            if isinstance(got, int):
                return passed(phrase) if got == want else failed(f"{name}={want}", f"{got}")
        return unchecked(f"a {kind_name(value_)} has no attribute that counts {things}")
    shape = shape_list(value_)
    if shape is None or not shape:
        return unchecked(f"cannot count {things} in a {kind_name(value_)}")
    if dimension is not None:
        got = shape[dimension]
        where = "the last dimension" if dimension == -1 else f"dim {dimension}"
        if got == want:
            return passed(f"{phrase} ({where})", f"shape {shape}")
        return failed(
            f"{phrase} ({where})",
            f"shape {shape}",
            f"expected {where} to be {want} ({phrase}), got {got} (shape {shape})",
        )
    if want in shape:
        return passed(f"a dimension of {want} ({phrase})", f"shape {shape}")
    return failed(
        f"a dimension of {want} ({phrase})",
        f"shape {shape}",
        f"expected a dimension of size {want} ({phrase}), got shape {shape}",
    )
