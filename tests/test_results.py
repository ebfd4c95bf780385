"""The results model: messages are one line each, and every string in the JSON is valid text."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import results
from harness.claims import Comment, find_claims
from harness.lesson import parse_lesson
from harness.results import (
    BlockResult,
    ClaimResult,
    ErrorInfo,
    LessonResult,
    Level,
    Status,
    Verdict,
    document_json,
    load_document,
    results_json,
)
from harness.static.depends import Need
from harness.static.lint import Note

FORGED = "ok\nlessons/dl.md:1: [cpu] forged failure\x1b[31m"


def test_one_line_escapes_control_characters_and_keeps_the_rest() -> None:
    text = "a\nb\r\tc\x1b[31md\x00\x7f\x9be\u2028f\u202eg\udc80 back\\slash é ünï 形"
    assert results.one_line(text) == (
        "a\\nb\\r\\tc\\x1b[31md\\x00\\x7f\\x9be\\u2028f\\u202eg\\udc80 back\\slash é ünï 形"
    )
    once = results.one_line(text)
    assert results.one_line(once) == once  # nothing is left to escape
    assert results.one_line("plain: [2, 3] -> [2, 4]") == "plain: [2, 3] -> [2, 4]"


def test_messages_from_lesson_code_cannot_forge_lines_or_colour_the_terminal() -> None:
    lesson = parse_lesson("# T\n\n```python\nraise ValueError('x')\n```\n", "lessons/t\x1b.md")
    result = LessonResult(lesson, [], ["cpu"])
    result.blocks = {3: {"cpu": BlockResult("failed", error=ErrorInfo("ValueError", FORGED, 4))}}
    result.notes = [Note(4, "device-fragile", "two\nlines")]
    result.needs = {}
    lines = result.failures() + result.lint() + result.coverage_lines()
    assert result.failures() == [
        "lessons/t\\x1b.md:4: [cpu] ValueError: ok\\nlessons/dl.md:1: [cpu] forged failure\\x1b[31m"
    ]
    assert result.lint() == ["lessons/t\\x1b.md:4: [info] device-fragile: two\\nlines"]
    for line in lines:
        assert line.isprintable(), line


def test_lone_surrogates_are_escaped_so_the_json_is_valid_utf8() -> None:
    lesson = {
        "path": "lessons/\udcff.md",
        "blocks": [{"results": {"cpu": {"stdout": "a\udc80b\n", "error": {"message": "\ud800"}}}}],
        "claims": [],
        "\udc80 key": [("tuple", "\udfff")],
    }
    document = results_json([lesson], ["cpu"], ["bad\udc80.md: is not UTF-8 (byte 0)"])
    text = json.dumps(document, ensure_ascii=False)
    text.encode("utf-8")  # strict: no lone surrogate left anywhere
    assert "\\ud" not in json.dumps(document).replace("\\\\ud", "")  # no \ud escape either
    (written,) = document["lessons"]
    assert written["path"] == "lessons/\\udcff.md"
    assert written["blocks"][0]["results"]["cpu"]["stdout"] == "a\\udc80b\n"  # newline kept
    assert written["\\udc80 key"] == [["tuple", "\\udfff"]]
    assert document["problems"] == ["bad\\udc80.md: is not UTF-8 (byte 0)"]
    assert results.valid_text("a whole pair: \U0001f600") == "a whole pair: 😀"


def test_valid_json_takes_any_depth_json_loads_accepts() -> None:
    deep: Any = "\udc80"
    for _ in range(50_000):
        deep = [deep, {"k": 1}]
    cleaned = results.valid_json(deep)
    for _ in range(50_000):
        assert cleaned[1] == {"k": 1}
        cleaned = cleaned[0]
    assert cleaned == "\\udc80"
    assert results.valid_json(3) == 3 and results.valid_json(None) is None


# --------------------------------------------------------------------- statuses and verdicts


def test_statuses_and_verdicts_are_their_strings_in_json() -> None:
    states: list[str] = [Status.NOT_RUN, Verdict.UNCHECKED]
    assert states == ["not-run", "unchecked"]  # a member is its string
    assert json.dumps({Status.PASSED: [Verdict.FAILED]}, indent=1) == json.dumps(
        {"passed": ["failed"]}, indent=1
    )
    assert json.dumps(asdict(BlockResult(Status.NEEDS))) == json.dumps(asdict(BlockResult("needs")))
    assert [str(s) for s in Status] == [
        "passed",
        "failed",
        "needs",
        "skipped",
        "unsupported",
        "not-run",
    ]
    assert [str(v) for v in Verdict] == ["passed", "failed", "unchecked", "not-run"]


def test_one_ranking_for_blocks_and_claims() -> None:
    assert results.worst(["passed", "not-run"]) == "passed"
    assert results.worst(["skipped", "passed", "needs"]) == "needs"
    assert results.worst(["unchecked", "failed", "passed"]) == "failed"
    assert results.worst([]) == "not-run"
    assert results.rank("maybe") == results.rank("not-run")  # a newer harness's word
    claim = ClaimResult(Verdict.NOT_RUN)
    for verdict in (Verdict.PASSED, Verdict.UNCHECKED, Verdict.PASSED, Verdict.FAILED):
        claim.add(verdict, "e", "a", verdict)
    assert (claim.verdict, claim.message, claim.checks) == ("failed", "failed", 4)
    claim.add(Verdict.UNCHECKED, "e", "a", "later")
    assert claim.message == "failed"  # the first failure stays


# ------------------------------------------------------------------------------ messages


def test_messages_carry_their_fields_and_print_as_before() -> None:
    source = "# T\n\n```python\nimport torch\n```\n\n```python\nx = torch.zeros(2)\nboom()\n```\n"
    result = LessonResult(parse_lesson(source, "t.md"), [], ["cpu", "cuda"])
    error = ErrorInfo("NameError", "name 'boom' is not defined", 9)
    needs = ErrorInfo("ModuleNotFoundError", "No module named 'x'", 4)
    result.blocks = {
        3: {"cpu": BlockResult("needs", error=needs, need="package x")},
        7: {"cpu": BlockResult("failed", error=error)},
    }
    result.notes = [Note(8, "device-fragile", "torch.zeros(...) has no device=")]
    result.absent = {"cuda": "cuda is not available"}
    said = result.messages()
    assert [(m.line, m.device, m.level) for m in said] == [
        (None, "cuda", Level.NOTICE),
        (4, "cpu", Level.INFO),
        (8, "", Level.INFO),
        (9, "cpu", Level.ERROR),
    ]
    assert [str(m) for m in said] == [
        "t.md: [cuda] not checked: cuda is not available",
        "t.md:4: [info] [cpu] needs package x: ModuleNotFoundError: No module named 'x'",
        "t.md:8: [info] device-fragile: torch.zeros(...) has no device=",
        "t.md:9: [cpu] NameError: name 'boom' is not defined",
    ]
    assert [str(m) for m in said[1:]] == result.needs_lines() + result.lint() + result.failures()
    strict = result.messages(strict=True)
    assert [(m.line, m.level) for m in strict if m.device == "cpu"] == [
        (4, Level.ERROR),
        (9, Level.ERROR),
    ]
    assert str(strict[1]).startswith("t.md:4: [cpu] needs package x: ModuleNotFoundError")


# ------------------------------------------------------------------- load and dump the file


def _written(tmp_path: Path) -> Any:
    """A results file as ``harness check --json`` writes it, for a lesson with a bit of all."""
    source = (
        "# T\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n# just prose\n```\n\n"
        "```python\ny = x.sum(0)  # [4]\n```\n\n```bash\nls\n```\n"
    )
    lesson = parse_lesson(source, "t.md")
    prose = [Comment(6, 0, "just prose", False)]
    result = LessonResult(lesson, find_claims(lesson), ["cpu"], prose=prose)
    result.blocks = {
        3: {"cpu": BlockResult("passed", 0.5, "out\n", census={"cpu": 1.0}, losses=[2.0, 1.5])},
        9: {"cpu": BlockResult("failed", error=ErrorInfo("E", "m", 10, "tb"), reason="r")},
        13: {"cpu": BlockResult("skipped", reason="bash")},
    }
    result.verdicts = {
        5: {"cpu": ClaimResult("passed", "[2, 3]", "[2, 3]", "", 1)},
        10: {"cpu": ClaimResult("failed", "[4]", "[3]", "expected [4], found [3]", 1)},
    }
    result.notes = [Note(5, "device-fragile", "no device=")]
    result.needs = {9: (Need("x", 5),)}
    lessons = [{**result.to_json(), "config": "pyproject.toml"}]
    document = results_json(lessons, ["cpu"], ["bad.md: is empty"])
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    return json.loads(path.read_text())


def test_load_document_is_the_inverse_of_results_json(tmp_path: Path) -> None:
    data = _written(tmp_path)
    loaded = load_document(data)
    (lesson,) = loaded.lessons
    assert lesson.blocks[1].results["cpu"].error == ErrorInfo("E", "m", 10, "tb")
    assert lesson.blocks[0].results["cpu"].status is Status.PASSED  # a member, typed
    assert lesson.claims[1].results["cpu"].verdict is Verdict.FAILED
    assert [need.name for need in lesson.blocks[1].needs] == ["x"]
    assert (lesson.config, loaded.problems) == ("pyproject.toml", ["bad.md: is empty"])
    assert lesson.blocks[0].results["cpu"].losses == [2.0, 1.5]
    assert "losses" not in data["lessons"][0]["blocks"][1]["results"]["cpu"]  # none: not written
    assert document_json(loaded) == data
    assert json.dumps(document_json(loaded), indent=1) == json.dumps(data, indent=1)


def test_load_document_tolerates_missing_and_odd_fields() -> None:
    loaded = load_document(
        {
            "schema": "1",
            "environment": "linux",
            "problems": "none",
            "lessons": [
                {"title": "no path: left out"},
                7,
                {
                    "path": "a.md",
                    "id": None,
                    "coverage": {"claims": "3", "checked": True},
                    "blocks": [
                        {"results": {"cpu": {"status": "passed"}}},  # no line: left out
                        {"line": "4", "results": {"cpu": {}, "mps": "oops"}},
                        {
                            "line": 8,
                            "results": {
                                "cpu": {
                                    "status": "exploded",
                                    "seconds": "fast",
                                    "census": {"cpu": "all", "cuda": 0.5},
                                    "flags": "ran-elsewhere",
                                    "error": "boom",
                                    "cached": "yes",
                                    "losses": [1, "x", None, 0.5, float("nan")],
                                }
                            },
                        },
                    ],
                    "claims": [{"line": 5, "results": {"cpu": {"verdict": None, "checks": 1.5}}}],
                },
            ],
        }
    )
    assert (loaded.schema, loaded.environment, loaded.problems) == (1, {}, [])
    (lesson,) = loaded.lessons
    assert (lesson.path, lesson.id, lesson.coverage) == ("a.md", "", {"claims": 3})
    assert [block.line for block in lesson.blocks] == [4, 8]
    assert list(lesson.blocks[0].results) == ["cpu"]
    assert lesson.blocks[0].results["cpu"].status == Status.NOT_RUN
    odd = lesson.blocks[1].results["cpu"]
    assert (odd.status, odd.seconds, odd.census, odd.flags, odd.error, odd.cached) == (
        "exploded",  # kept as text: a newer harness's status
        0.0,
        {"cuda": 0.5},
        [],
        None,
        False,
    )
    assert odd.losses == [1.0, 0.5]
    claim = lesson.claims[0].results["cpu"]
    assert (claim.verdict, claim.checks) == (Verdict.NOT_RUN, 0)
    assert load_document([1, 2]) == load_document(None) == load_document({})
