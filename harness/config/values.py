"""The values of keys, checked with the command line's own checks (``harness.cli.arguments``,
imported when a key is read: the workers import this package, never the command line)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def shown_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _argument(parse: Callable[[str], T], text: str) -> T:
    """``parse`` (one of the command line's), its complaint as a ValueError ``expected ...,
    got ...``."""
    try:
        return parse(text)
    except argparse.ArgumentTypeError as error:
        message = str(error)
        if ", not " in message:
            message = message.rsplit(", not ", 1)[0]
        raise ValueError(f"{message}, got {text[:40]!r}") from None


def devices_value(value: object) -> tuple[str, ...]:
    from harness.cli.arguments import DEVICES, parse_devices  # the command line's own check

    if isinstance(value, list) and all(isinstance(v, str) and "," not in v for v in value):
        text = ",".join(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(
            f"expected a comma-separated string or a list of {', '.join(DEVICES)}, "
            f"got {shown_value(value)}"
        )
    try:
        return tuple(parse_devices(text))
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"{error}, got {text[:40]!r}") from None


def _number(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {what} (a number), got {shown_value(value)}")
    return repr(value)


def time_limit_value(value: object) -> float:
    from harness.cli.arguments import parse_time_limit

    return _argument(parse_time_limit, _number(value, "seconds"))


def memory_limit_value(value: object) -> int:
    from harness.cli.arguments import parse_memory_limit

    if isinstance(value, float):
        raise ValueError(f"expected whole megabytes (an integer), got {shown_value(value)}")
    return _argument(parse_memory_limit, _number(value, "whole megabytes"))
