"""Comments that look like a shape but are read as prose, and the shape they nearly are.

``# [3 2]``, ``# [3, 2``, ``# (3; 2)``, ``# [3, 2]]``, ``# 32x14x14``: an author meant a
shape; the harness reads prose and checks nothing. ``near_shape`` says why, with the claim
that would be read (``did you mean `[3, 2]`?``); ``harness check --coverage`` prints it under
the prose line. It speaks only when the whole comment (after an optional ``shape:`` label) is
the near-shape and the suggestion parses as a shape: prose that mentions brackets stays quiet.
"""

from __future__ import annotations

import re

from harness.claims.shapes import parse_shape

_LABEL = re.compile(r"(?i)\s*(?:(?:output\s+|out\s+)?shape\s*[:=]?\s*|->\s*)?")
_DIM = r"[A-Za-z_]\w*|\d+"
_SPACED = re.compile(rf"([\[(])\s*((?:{_DIM})(?:\s+(?:{_DIM}))+)\s*([\])])")
_UNCLOSED = re.compile(rf"([\[(])\s*((?:{_DIM})(?:\s*,\s*(?:{_DIM}))*)\s*,?")
_EXTRA = re.compile(rf"([\[(])\s*((?:{_DIM})(?:\s*,\s*(?:{_DIM}))*)\s*([\])])[\])]+")
_SEMICOLONS = re.compile(rf"([\[(])\s*((?:{_DIM})(?:\s*;\s*(?:{_DIM}))+)\s*([\])])")
_TIMES = re.compile(r"(\d+)(?:\s*[x\u00d7]\s*(\d+))+")

_CLOSE = {"[": "]", "(": ")"}


def near_shape(text: str) -> str:
    """``did you mean `[3, 2]`? (why)`` for a comment that is nearly a shape, else ''."""
    label = _LABEL.match(text)
    body = text[label.end() if label else 0 :].strip()
    for pattern, why in (
        (_SPACED, "a shape's dimensions are separated by commas"),
        (_SEMICOLONS, "a shape's dimensions are separated by commas, not semicolons"),
        (_EXTRA, "a closing bracket too many"),
    ):
        found = pattern.fullmatch(body)
        if found is not None:
            dims = re.split(r"[\s;,]+", found.group(2).strip())
            return _suggest(found.group(1), dims, why)
    found = _UNCLOSED.fullmatch(body)
    if found is not None and "," in found.group(2):
        return _suggest(
            found.group(1), re.split(r"\s*,\s*", found.group(2)), "the bracket is never closed"
        )
    if _TIMES.fullmatch(body):
        dims = re.split(r"\s*[x\u00d7]\s*", body)
        return _suggest(
            "[", dims, "a shape is written in brackets, its dimensions separated by commas"
        )
    return ""


def _suggest(opening: str, dims: list[str], why: str) -> str:
    shape = f"{opening}{', '.join(dims)}{_CLOSE[opening]}"
    if parse_shape(shape) is None:
        return ""
    return f"did you mean `{shape}`? ({why})"
