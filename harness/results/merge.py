"""Merging partial results of lessons (pytest items, several runners) into one per lesson."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from harness.results.model import JSON, ClaimResult
from harness.results.status import Verdict


def _fold(old: JSON | None, new: JSON) -> JSON:
    """Two verdicts of one claim on one device (checked in two runs) as one."""
    if old is None:
        return new
    merged = ClaimResult(**old)
    if new["checks"] or new["verdict"] != Verdict.NOT_RUN:
        merged.add(new["verdict"], new["expected"], new["actual"], new["message"])
        merged.checks = old["checks"] + new["checks"]
    return asdict(merged)


def merge_lessons(parts: Iterable[JSON]) -> list[JSON]:
    """Merge partial lesson results (some blocks, some devices each) by lesson path.

    Blocks and claims are matched by line; their per-device results are united. Used for
    pytest items (one block each) and for results files from several runners.
    """
    merged: dict[str, JSON] = {}
    for part in parts:
        lesson = merged.setdefault(part["path"], {**part, "blocks": [], "claims": []})
        for key in ("blocks", "claims"):
            by_line = {item["line"]: item for item in lesson[key]}
            for item in part[key]:
                if item["line"] in by_line and key == "claims":
                    results = by_line[item["line"]]["results"]
                    for device, verdict in item["results"].items():
                        results[device] = _fold(results.get(device), verdict)
                elif item["line"] in by_line:
                    by_line[item["line"]]["results"].update(item["results"])
                else:
                    by_line[item["line"]] = {**item, "results": dict(item["results"])}
            lesson[key] = sorted(by_line.values(), key=lambda entry: entry["line"])
    return sorted(merged.values(), key=lambda lesson: lesson["path"])
