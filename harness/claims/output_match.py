"""Comparing a printed output with what a claim shows it to be, as a reader would."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\.\.\.|(?<![\w.])([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w])|\w+|\S")
_IGNORED = frozenset("()[]{},")
_EXTRAS = {  # parts of a tensor's repr a claim may leave out
    "device": re.compile(r",\s*device='[^']*'"),
    "grad_fn": re.compile(r",\s*grad_fn=<\w+>"),
    "requires_grad": re.compile(r",\s*requires_grad=True"),
    "dtype": re.compile(r",\s*dtype=torch\.\w+"),
}
MAX_STEPS = 2_000_000  # of matching a claim with ``...`` against an output


class TooLong(Exception):
    """An output too long to compare with a claim full of ``...``."""


_BACKWARD = re.compile(r"(Backward)\d+")  # grad_fn=<AddmmBackward0>, <AddmmBackward> in torch 1
_STAR = ("...", "")


def _tokens(text: str, claimed: bool) -> list[tuple[str, str]]:
    """(kind, text) tokens: numbers, words, signs; brackets and commas are left out (``[1, 2]``
    and ``tensor([1, 2])`` show the same values); ``...`` in a claim matches anything."""
    found: list[tuple[str, str]] = []
    for part in _TOKEN.finditer(text):
        token = part.group(0)
        if token == "..." and claimed:
            found.append(_STAR)
        elif part.group(1) is not None:
            found.append(("number", token))
        elif token not in _IGNORED:
            found.append(("text", token))
    return found


def _ulp(number: str) -> float:
    """The unit of the last digit a number is written with; 0 when written exactly (``1.``)."""
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa or mantissa.endswith("."):
        return 0.0
    decimals = len(mantissa.split(".")[1])
    return float(10.0 ** (int(exponent or 0) - decimals))


def _same(claimed: tuple[str, str], actual: tuple[str, str]) -> bool:
    if claimed[0] != actual[0]:
        return False
    if claimed[0] == "text":
        return claimed[1] == actual[1]
    want, got = float(claimed[1]), float(actual[1])
    if want == got:
        return True
    if "." not in claimed[1] and "e" not in claimed[1].lower():
        return False  # an integer claimed: exactly
    tolerance = 0.5 * max(_ulp(claimed[1]), _ulp(actual[1]))
    return abs(want - got) <= tolerance * (1 + 1e-9)


def output_matches(claimed: str, actual: str) -> bool:
    """Whether ``actual`` output is what ``claimed`` shows, as doctest would see it with
    NORMALIZE_WHITESPACE and ELLIPSIS, and more leniently: numbers equal at the precision
    either is written with, brackets and commas aside, ``tensor(...)`` and its ``device=``,
    ``dtype=``, ``grad_fn=`` left out when the claim leaves them out."""
    for word, pattern in _EXTRAS.items():
        if word not in claimed:
            actual = pattern.sub("", actual)
    claimed, actual = (_BACKWARD.sub(r"\1", text) for text in (claimed, actual))
    want = _tokens(claimed, True)
    got = _tokens(actual, False)
    if ("text", "tensor") not in want:
        got = [t for t in got if t != ("text", "tensor")]
    i = j = 0
    star, mark = -1, 0
    budget = MAX_STEPS
    while j < len(got):
        budget -= 1
        if budget < 0:
            raise TooLong(f"comparing took over {MAX_STEPS:,} steps")
        if i < len(want) and want[i] is not _STAR and _same(want[i], got[j]):
            i, j = i + 1, j + 1
        elif i < len(want) and want[i] is _STAR:
            star, mark = i, j
            i += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < len(want) and want[i] is _STAR:
        i += 1
    return i == len(want)


def shown(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
