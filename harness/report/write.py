"""``write_report``: results documents (merged) and benchmark files -> ``index.html`` and one
page per lesson.

Pages are self-contained (inline CSS and SVG, no script, nothing fetched) and everything that
comes from a lesson or its output is escaped: Jinja2 autoescapes, raw HTML in the markdown is
escaped, Pygments escapes the code. Text that is not valid (a lone surrogate in output) is
shown escaped (``valid_json``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from harness.report.article import render_article
from harness.report.index import BenchRow, Run, bench_rows, bench_runs, file_names, runs
from harness.report.inputs import (
    JSON,
    KNOWN_SCHEMA,
    bench_run,
    device_key,
    integer,
    listed,
    mapping,
    mappings,
    text,
)
from harness.report.page import LessonPage
from harness.report.templates import environment as templates
from harness.report.views import CLAIM_STATES
from harness.results import (
    ClaimResult,
    LessonRecord,
    Verdict,
    load_document,
    merge_lessons,
    valid_json,
)


def devices_of(documents: Sequence[JSON], lessons: Sequence[LessonRecord]) -> list[str]:
    found: set[str] = set()
    for document in documents:
        environment = document.get("environment")
        if isinstance(environment, dict) and isinstance(environment.get("devices"), list):
            found |= {str(d) for d in environment["devices"]}
    for lesson in lessons:
        for block in lesson.blocks:
            found |= set(block.results)
        for claim in lesson.claims:
            found |= set(claim.results)
    return sorted(found, key=device_key)


def lesson_part(lesson: JSON, seen: dict[tuple[str, int, str], str]) -> JSON | None:
    """A copy of a lesson's results that ``merge_lessons`` can take whatever the file held.

    Blocks and claims without a line are left out, results default to ``{}``, and a claim's
    per-device results keep the fields ``ClaimResult`` knows (merging folds them through it).
    ``seen`` holds the verdicts of earlier parts per (path, line, device): a verdict this
    report does not know (a newer harness's) is never folded with another; the first stays.
    """
    if not isinstance(lesson.get("path"), str):
        return None
    path = lesson["path"]
    known = {f.name for f in fields(ClaimResult)}
    blocks = [
        {**block, "line": integer(block.get("line")), "results": mapping(block.get("results"))}
        for block in mappings(lesson.get("blocks"))
        if integer(block.get("line")) is not None
    ]
    claims = []
    for claim in mappings(lesson.get("claims")):
        if integer(claim.get("line")) is None:
            continue
        line = integer(claim.get("line")) or 0
        results = {}
        for device, result in mapping(claim.get("results")).items():
            if isinstance(result, dict):
                kept = {k: v for k, v in result.items() if k in known}
                kept["verdict"] = text(kept.get("verdict")) or Verdict.NOT_RUN
                earlier = seen.get((path, line, str(device)))
                if earlier is not None and not {earlier, kept["verdict"]} <= set(CLAIM_STATES):
                    continue
                seen.setdefault((path, line, str(device)), kept["verdict"])
                results[str(device)] = {**asdict(ClaimResult(Verdict.NOT_RUN)), **kept}
        claims.append({**claim, "line": line, "results": results})
    return {**lesson, "blocks": blocks, "claims": claims}


@dataclass
class Report:
    """Everything the report shows, laid out and rendered, before a file is written."""

    pages: list[LessonPage]
    devices: list[str]
    runs: list[Run]
    problems: list[str]
    bench_rows: list[BenchRow]
    bench_runs: list[list[tuple[str, str]]]

    @property
    def unknown_schema(self) -> list[str]:
        return sorted({str(r.schema) for r in self.runs if r.schema != KNOWN_SCHEMA}, key=str)


def build_report(
    documents: Sequence[dict[str, Any]],
    benchmarks: Sequence[dict[str, Any]] = (),
    root: Path | None = None,
    checked: Collection[str] = (),
) -> Report:
    """The views of the report of ``documents`` (see ``write_report``), pages rendered."""
    documents = [valid_json(document) for document in documents]
    runs_measured = [bench_run(valid_json(document)) for document in benchmarks]
    entries = [entry for run in runs_measured for entry in run.entries]
    seen: dict[tuple[str, int, str], str] = {}
    parts = [lesson_part(lesson, seen) for d in documents for lesson in mappings(d.get("lessons"))]
    merged = merge_lessons(part for part in parts if part is not None)
    lessons = load_document({"lessons": merged}).lessons  # every merged lesson has a path
    devices = devices_of(documents, lessons)
    problems = list(
        dict.fromkeys(
            str(problem)
            for document in documents
            for problem in listed(document.get("problems"))
            if problem
        )
    )
    pages = [
        LessonPage(lesson, devices, f"{name}.html", entries, raw=raw)
        for lesson, raw, name in zip(lessons, merged, file_names(lessons), strict=True)
    ]
    for page in pages:
        page.read_source(root, checked)
        render_article(page)
    return Report(
        pages=pages,
        devices=devices,
        runs=runs(documents),
        problems=problems,
        bench_rows=bench_rows(runs_measured, pages),
        bench_runs=bench_runs(runs_measured),
    )


def write_report(
    documents: Sequence[dict[str, Any]],
    out: Path,
    benchmarks: Sequence[dict[str, Any]] = (),
    root: Path | None = None,
    checked: Collection[str] = (),
) -> list[Path]:
    """Write ``out/index.html`` and ``out/<lesson id>.html``; return the paths written.

    ``documents`` are parsed JSON results files (schema 1), merged by lesson path, block and
    claim line (one column per device); ``benchmarks`` are parsed pytest-benchmark JSON files.
    Each lesson's markdown is re-read from its ``path``, relative to ``root`` (the directory
    the check ran in; default: the current directory) if it is one of the lessons this run
    ``checked`` or ``refused`` lets it through. Text that is not valid (lone surrogates) is
    shown escaped. Raises OSError if ``out`` cannot be written.
    """
    report = build_report(documents, benchmarks, root, checked)
    environment = templates()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lesson_template = environment.get_template("lesson.html.j2")
    for page in report.pages:
        html = lesson_template.render(page=page, devices=report.devices, counts=page.counts())
        written.append(out / page.file)
        written[-1].write_text(html, encoding="utf-8", errors="backslashreplace")
    index = environment.get_template("index.html.j2").render(
        pages=report.pages,
        devices=report.devices,
        runs=report.runs,
        problems=report.problems,
        unknown_schema=report.unknown_schema,
        bench_rows=report.bench_rows,
        bench_runs=report.bench_runs,
    )
    (out / "index.html").write_text(index, encoding="utf-8", errors="backslashreplace")
    return [out / "index.html", *written]
