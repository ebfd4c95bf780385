"""Text that is safe to show: one line on a terminal, valid UTF-8 in JSON."""

from __future__ import annotations

import re
from typing import Any

# What may not reach a terminal or an annotation as it is: C0 and C1 control characters (the
# newline that would start a forged message, ESC and CSI that colour or move the cursor), line
# and paragraph separators, bidirectional overrides, and lone surrogates (not text at all).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """``text`` as one line that is safe on a terminal: control characters (``\\n``,
    ``\\x1b``, ...), line separators, bidirectional overrides and lone surrogates are shown
    escaped as Python writes them; everything else, backslashes included, stays as it is."""
    return _UNSAFE.sub(_escaped, text)


def valid_text(text: str) -> str:
    """``text`` without lone surrogates (undecodable output, a file name that is not UTF-8):
    each is shown escaped (``\\udc80``), so the text encodes as UTF-8 and as valid JSON."""
    return _SURROGATE.sub(_escaped, text) if _SURROGATE.search(text) else text


def valid_json(value: Any) -> Any:
    """A copy of a JSON value (``dict``, ``list``, ``str``, numbers) with every string, keys
    included, passed through ``valid_text``. Iterative: any depth ``json.loads`` accepts."""
    if not isinstance(value, dict | list | tuple):
        return valid_text(value) if isinstance(value, str) else value
    top: list[Any] = [None]
    work: list[tuple[Any, list[Any] | dict[Any, Any], Any]] = [(value, top, 0)]
    while work:
        item, into, key = work.pop()
        if isinstance(item, dict):
            copy: dict[Any, Any] = {}
            into[key] = copy
            for name, child in item.items():
                name = valid_text(name) if isinstance(name, str) else name
                copy[name] = None
                work.append((child, copy, name))
        elif isinstance(item, list | tuple):
            items: list[Any] = [None] * len(item)
            into[key] = items
            work.extend((child, items, index) for index, child in enumerate(item))
        else:
            into[key] = valid_text(item) if isinstance(item, str) else item
    return top[0]
