"""The index page's views: the lessons' file names, the runs, the benchmark tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.formatting import when
from harness.report.inputs import JSON, BenchEntry, BenchRun, mappings, same_file, text
from harness.report.page import LessonPage
from harness.results import LessonRecord


def file_names(lessons: Sequence[LessonRecord]) -> list[str]:
    """A distinct, safe file name per lesson, from its id (``index`` is the index's)."""
    names: list[str] = []
    taken = {"index"}
    for lesson in lessons:
        stem = lesson.id or Path(lesson.path).stem or "lesson"
        stem = re.sub(r"[^\w.-]", "-", stem)[:100].strip(".") or "lesson"
        name, number = stem, 2
        while name.lower() in taken:
            name, number = f"{stem}-{number}", number + 1
        taken.add(name.lower())
        names.append(name)
    return names


@dataclass
class Run:
    """One results document, as the index describes it."""

    number: int
    schema: Any
    devices: list[str]
    finished: str
    fields: list[tuple[str, str]]
    lessons: int


def runs(documents: Sequence[JSON]) -> list[Run]:
    found = []
    for position, document in enumerate(documents, 1):
        environment = document.get("environment")
        environment = environment if isinstance(environment, dict) else {}
        devices = environment.get("devices")
        fields = []
        for key, value in environment.items():
            if key in ("devices", "finished"):
                continue
            shown = " ".join(map(str, value)) if isinstance(value, list) else text(value)
            fields.append((str(key), shown))
        found.append(
            Run(
                number=position,
                schema=document.get("schema"),
                devices=[str(d) for d in devices] if isinstance(devices, list) else [],
                finished=text(environment.get("finished")),
                fields=fields,
                lessons=len(mappings(document.get("lessons"))),
            )
        )
    return found


@dataclass
class BenchRow:
    """A benchmark on the index: its figures and the link to its block (empty when no lesson
    page shows it)."""

    entry: BenchEntry
    href: str


def bench_rows(benchmarks: Sequence[BenchRun], pages: Sequence[LessonPage]) -> list[BenchRow]:
    rows = []
    for entry in (entry for run in benchmarks for entry in run.entries):
        lesson, block = entry.lesson, entry.block
        page = next((p for p in pages if lesson and same_file(lesson, p.path)), None)
        href = f"{page.file}#B{block}" if page is not None and block is not None else ""
        rows.append(BenchRow(entry, href))
    return rows


def bench_runs(benchmarks: Sequence[BenchRun]) -> list[list[tuple[str, str]]]:
    """Each benchmark file's card on the index: (what, value), those with a value."""
    runs = []
    for run in benchmarks:
        fields = [
            ("finished", when(run.finished)),
            ("pytest-benchmark", run.version),
            ("machine", run.machine),
            ("cpu", run.cpu),
            ("python", run.python),
            ("commit", run.commit),
        ]
        runs.append([(k, v) for k, v in fields if v.strip()])
    return runs
