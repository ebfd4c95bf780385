"""The report's input: results files and pytest-benchmark files, read and told apart by content.

JSON values are read tolerantly (``text``, ``number``, ``integer``, ``mapping``, ``mappings``):
a field of the wrong type reads as missing, never as an error, so results from another
version of harness still render. ``refused`` says which lesson paths the report may read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.results.model import JSON as JSON
from harness.results.tolerant import (  # the report's modules read with these too
    integer as integer,
)
from harness.results.tolerant import (
    listed as listed,
)
from harness.results.tolerant import (
    mapping as mapping,
)
from harness.results.tolerant import (
    mappings as mappings,
)
from harness.results.tolerant import (
    number as number,
)
from harness.results.tolerant import (
    strings as strings,
)
from harness.results.tolerant import (
    text as text,
)

KNOWN_SCHEMA = 1


def read_inputs(paths: Iterable[Path], root: Path | None = None) -> tuple[list[JSON], list[JSON]]:
    """Results documents and pytest-benchmark documents among ``paths``, told apart by content.

    Raises ValueError (one line) naming a file that is neither (or is not JSON), or a results
    file with a lesson path the report may not read (``refused``; ``root``: default the
    current directory).
    """
    documents: list[JSON] = []
    benchmarks: list[JSON] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: is not UTF-8 (byte {error.start})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: is not JSON ({error})") from None
        except RecursionError:
            raise ValueError(f"{path}: is not usable JSON (nested too deeply)") from None
        if isinstance(data, dict) and "lessons" in data:
            for lesson in mappings(data["lessons"]):
                why = refused(lesson.get("path"), root)
                if why:
                    raise ValueError(f"{path}: lesson path {lesson['path']!r} refused: {why}")
            documents.append(data)
        elif isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            benchmarks.append(data)
        else:
            raise ValueError(f"{path}: neither JSON results nor pytest-benchmark JSON")
    return documents, benchmarks


@dataclass(frozen=True)
class BenchEntry:
    """One pytest-benchmark measurement, with what harness's benchmark adds in ``extra_info``."""

    name: str
    group: str
    mean: float | None
    stddev: float | None
    rounds: int | None
    lesson: str
    block: int | None
    device: str
    steps: int | None
    samples: int | None
    steps_per_second: float | None
    samples_per_second: float | None
    losses: tuple[Any, ...]  # as the file has them (``loss_chart`` leaves out non-numbers)
    located: bool  # ``extra_info`` names a lesson, a block and a device


@dataclass(frozen=True)
class BenchRun:
    """One pytest-benchmark file: its measurements and the machine they ran on."""

    entries: tuple[BenchEntry, ...]
    finished: str
    version: str
    machine: str
    cpu: str
    python: str
    commit: str


def bench_run(document: JSON) -> BenchRun:
    """A pytest-benchmark document, read tolerantly."""
    entries = []
    for entry in mappings(document.get("benchmarks")):
        stats = mapping(entry.get("stats"))
        extra = mapping(entry.get("extra_info"))
        losses = extra.get("losses")
        entries.append(
            BenchEntry(
                name=text(entry.get("name")),
                group=text(entry.get("group")),
                mean=number(stats.get("mean")),
                stddev=number(stats.get("stddev")),
                rounds=integer(stats.get("rounds")),
                lesson=text(extra.get("lesson")),
                block=integer(extra.get("block")),
                device=text(extra.get("device")),
                steps=integer(extra.get("steps")),
                samples=integer(extra.get("samples")),
                steps_per_second=number(extra.get("steps_per_second")),
                samples_per_second=number(extra.get("samples_per_second")),
                losses=tuple(losses) if isinstance(losses, list) else (),
                located={"lesson", "block", "device"} <= set(extra),
            )
        )
    info = mapping(document.get("machine_info"))
    commit = mapping(document.get("commit_info"))
    return BenchRun(
        entries=tuple(entries),
        finished=text(document.get("datetime")),
        version=text(document.get("version")),
        machine=" ".join(text(info.get(k)) for k in ("node", "machine") if info.get(k)),
        cpu=text(mapping(info.get("cpu")).get("brand_raw")),
        python=text(info.get("python_version")),
        commit=text(commit.get("id"))[:12] + (" (dirty)" if commit.get("dirty") else ""),
    )


def refused(path: Any, root: Path | None = None) -> str:
    """Why the report may not read the lesson text at ``path`` ("" when it may).

    A lesson path read by the report must end in ``.md`` and, relative to ``root`` (default:
    the current directory) and with every symlink resolved, lie inside ``root``: so results
    naming ``/etc/passwd``, ``../../x.md`` or a link that leads out are never read.
    """
    if not isinstance(path, str):
        return ""  # no path: nothing is read (``lesson_part`` leaves the lesson out)
    base = Path.cwd() if root is None else root
    rule = f"the report reads only .md files inside {base}"
    if not path.lower().endswith(".md"):
        return f"not a markdown file ({rule})"
    try:
        inside = Path(os.path.realpath(base / path)).is_relative_to(os.path.realpath(base))
    except (OSError, ValueError):
        inside = False
    return "" if inside else f"outside the folder ({rule})"


def same_file(first: str, second: str) -> bool:
    """Whether two lesson paths name one file, also when one is absolute from another machine."""
    if first == second:
        return True
    a, b = Path(first), Path(second)
    try:
        if a.resolve() == b.resolve():
            return True
    except OSError:
        pass
    shorter, longer = sorted((a.parts, b.parts), key=len)
    if a.is_absolute() == b.is_absolute() or not shorter:
        return False
    tail = [p for p in shorter if p not in (".", "")]
    return bool(tail) and list(longer[-len(tail) :]) == tail


def device_key(device: str) -> tuple[bool, str]:
    """Devices in the report's order: cpu first, then the others by name."""
    return (device != "cpu", device)
