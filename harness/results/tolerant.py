"""Tolerant reading of JSON values: what a results or benchmark file holds may be missing,
of another type or not finite; each reader gives a usable value or an empty one, never raises.
The results loader (``harness.results.document``) and the report's inputs both read with these."""

from __future__ import annotations

import math
from typing import Any

from harness.results.model import JSON


def text(value: Any) -> str:
    return "" if value is None else str(value)


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def mapping(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def mappings(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
