"""How the report writes states, durations, rates and times (Jinja filters too)."""

from __future__ import annotations

from datetime import datetime

from harness.results import Status

NO_RESULT = "no-result"  # a device's column for a block the results lack (not a Status)
LABELS = {Status.NOT_RUN: "not run", NO_RESULT: "no result"}


def label(state: str) -> str:
    return LABELS.get(state, state)


def duration(seconds: float | None) -> str:
    """``250 µs``, ``12 ms``, ``1.64 s``, ``2 min 5 s``."""
    if seconds is None:
        return ""
    if seconds < 0.001:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


def rate(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def when(text: str) -> str:
    """An ISO timestamp as ``2026-11-24 04:03 UTC``; anything else as given."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    zone = moment.strftime("%Z") if moment.tzinfo else ""
    zone = "UTC" if zone in ("UTC", "UTC+00:00") else zone
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()
