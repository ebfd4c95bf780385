"""The JSON results file (schema 1): written from ``LessonResult``s, read back as a ``Document``.

The schema is a public contract (README, "JSON results"): fields may be added, never renamed
or removed. ``load_document`` is the inverse of ``results_json`` (``document_json`` writes a
loaded document again, field for field), and tolerant as a report must be of files written by
other versions or by hand: a missing or odd field takes its default, a lesson without a path
and a block or claim without a line are left out, an unknown status or verdict is kept as text.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from harness.results.model import (
    JSON,
    BlockRecord,
    BlockResult,
    ClaimRecord,
    ClaimResult,
    Document,
    ErrorInfo,
    LessonRecord,
    LessonResult,
    NeedRecord,
    NoteRecord,
    ProseRecord,
)
from harness.results.status import Status, Verdict, status_of, verdict_of
from harness.results.text import valid_json
from harness.results.tolerant import integer, mapping, mappings, number, text

SCHEMA = 1


def block_result_json(result: BlockResult) -> JSON:
    """A block's result on one device; ``losses`` only when the block recorded some, so every
    other block's entry is as it always was."""
    data = asdict(result)
    if not data["losses"]:
        del data["losses"]
    return data


def lesson_json(result: LessonResult) -> JSON:
    """One lesson's entry (the command line adds ``config``)."""
    lesson = result.lesson
    return {
        "path": lesson.path,
        "id": lesson.id,
        "title": lesson.title,
        "notes": [asdict(note) for note in result.notes],
        "coverage": result.coverage(),
        "prose": [{"line": c.line, "text": c.text} for c in result.prose],
        "blocks": [
            {
                "line": fence.line,
                "end_line": fence.end_line,
                "language": fence.language,
                "info": fence.info,
                "needs": [
                    {"name": need.name, "line": need.line}
                    for need in result.needs.get(fence.line, ())
                ],
                "mode": result.mode,
                "results": {
                    device: block_result_json(block)
                    for device, block in result.blocks.get(fence.line, {}).items()
                },
            }
            for fence in lesson.fences
        ],
        "claims": [
            {
                "line": claim.line,
                "text": claim.text,
                "kind": claim.kind,
                "subject": claim.subject,
                "block": claim.block,
                "results": {
                    device: asdict(verdict)
                    for device, verdict in result.verdicts.get(claim.line, {}).items()
                },
            }
            for claim in result.claims
        ],
    }


def environment(devices: Sequence[str]) -> JSON:
    try:
        torch_version = metadata.version("torch")  # without importing torch: cached runs stay fast
    except metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        torch_version = "not installed"
    return {
        "python": platform.python_version(),
        "torch": torch_version,
        "devices": list(devices),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "argv": sys.argv[1:],
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def results_json(lessons: Iterable[JSON], devices: Sequence[str], problems: Sequence[str]) -> JSON:
    """The whole results document. ``problems``: one-line messages for unusable lessons.

    Every string is valid text (``valid_json``): output that was not (a lone surrogate, bytes
    that are not UTF-8) is shown escaped, so the file is valid UTF-8 JSON and the report
    built from it is written whole.
    """
    document: JSON = valid_json(
        {
            "schema": SCHEMA,
            "environment": environment(devices),
            "lessons": list(lessons),
            "problems": list(problems),
        }
    )
    return document


# ---------------------------------------------------------------------------------- reading


def _error(value: Any) -> ErrorInfo | None:
    if not isinstance(value, dict):
        return None
    return ErrorInfo(
        text(value.get("type")),
        text(value.get("message")),
        integer(value.get("line")),
        text(value.get("traceback")),
    )


def load_block_result(data: Any) -> BlockResult:
    """A block's result on one device, whatever the file held (status: not-run if none)."""
    data = mapping(data)
    census = {
        str(device): share
        for device, value in mapping(data.get("census")).items()
        if (share := number(value)) is not None
    }
    flags, losses = data.get("flags"), data.get("losses")
    return BlockResult(
        status=status_of(data.get("status")) or Status.NOT_RUN,
        seconds=number(data.get("seconds")) or 0.0,
        stdout=text(data.get("stdout")),
        error=_error(data.get("error")),
        reason=text(data.get("reason")),
        census=census,
        flags=[str(flag) for flag in flags] if isinstance(flags, list) else [],
        moved_at=integer(data.get("moved_at")),
        cached=data.get("cached") is True,
        need=text(data.get("need")),
        resumed_after=integer(data.get("resumed_after")),
        losses=[loss for value in losses if (loss := number(value)) is not None]
        if isinstance(losses, list)
        else [],
    )


def load_claim_result(data: Any) -> ClaimResult:
    """A claim's verdict on one device, whatever the file held (verdict: not-run if none)."""
    data = mapping(data)
    return ClaimResult(
        verdict=verdict_of(data.get("verdict")) or Verdict.NOT_RUN,
        expected=text(data.get("expected")),
        actual=text(data.get("actual")),
        message=text(data.get("message")),
        checks=integer(data.get("checks")) or 0,
    )


def _block(data: JSON) -> BlockRecord | None:
    line = integer(data.get("line"))
    if line is None:
        return None
    needs = [
        NeedRecord(text(need.get("name")), integer(need.get("line")) or 0)
        for need in mappings(data.get("needs"))
    ]
    return BlockRecord(
        line=line,
        end_line=integer(data.get("end_line")),
        language=text(data.get("language")),
        info=text(data.get("info")),
        needs=needs,
        mode=text(data.get("mode")) or "reader",
        results={
            str(device): load_block_result(result)
            for device, result in mapping(data.get("results")).items()
            if isinstance(result, dict)
        },
    )


def _claim(data: JSON) -> ClaimRecord | None:
    line = integer(data.get("line"))
    if line is None:
        return None
    return ClaimRecord(
        line=line,
        text=text(data.get("text")),
        kind=text(data.get("kind")),
        subject=text(data.get("subject")),
        block=integer(data.get("block")),
        results={
            str(device): load_claim_result(result)
            for device, result in mapping(data.get("results")).items()
            if isinstance(result, dict)
        },
    )


def load_lesson(data: Any) -> LessonRecord | None:
    """One lesson entry; None when it names no path (nothing to show it under). A note or
    a prose entry without a usable line gets line 0 (a reader leaves those out)."""
    data = mapping(data)
    if not isinstance(data.get("path"), str):
        return None
    config = data.get("config")
    return LessonRecord(
        path=data["path"],
        id=text(data.get("id")),
        title=text(data.get("title")),
        notes=[
            NoteRecord(integer(n.get("line")) or 0, text(n.get("kind")), text(n.get("message")))
            for n in mappings(data.get("notes"))
        ],
        coverage={
            str(key): count
            for key, value in mapping(data.get("coverage")).items()
            if (count := integer(value)) is not None
        },
        prose=[
            ProseRecord(integer(p.get("line")) or 0, text(p.get("text")))
            for p in mappings(data.get("prose"))
        ],
        blocks=[b for b in map(_block, mappings(data.get("blocks"))) if b is not None],
        claims=[c for c in map(_claim, mappings(data.get("claims"))) if c is not None],
        config=config if isinstance(config, str) else None,
    )


def load_document(data: Any) -> Document:
    """A results document (``json.loads`` of a results file) as typed records, never raising."""
    data = mapping(data)
    lessons = [lesson for lesson in map(load_lesson, mappings(data.get("lessons"))) if lesson]
    problems = data.get("problems")
    return Document(
        schema=integer(data.get("schema")),
        environment=mapping(data.get("environment")),
        lessons=lessons,
        problems=[text(p) for p in problems] if isinstance(problems, list) else [],
    )


def lesson_record_json(lesson: LessonRecord) -> JSON:
    """A loaded lesson written back as ``lesson_json`` (and the command line) wrote it."""
    data = asdict(lesson)
    for block, written in zip(lesson.blocks, data["blocks"], strict=True):
        written["results"] = {
            device: block_result_json(result) for device, result in block.results.items()
        }
    config = data.pop("config")
    return {**data, "config": config}


def document_json(document: Document) -> JSON:
    """A loaded document written back: ``document_json(load_document(d)) == d`` for every
    document ``results_json`` wrote (with ``config`` per lesson, as ``harness check`` adds)."""
    return {
        "schema": document.schema,
        "environment": document.environment,
        "lessons": [lesson_record_json(lesson) for lesson in document.lessons],
        "problems": list(document.problems),
    }
