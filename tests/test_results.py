"""The results model: messages are one line each, and every string in the JSON is valid text."""

from __future__ import annotations

import json
from typing import Any

from harness import results
from harness.lesson import parse_lesson
from harness.results import BlockResult, ErrorInfo, LessonResult, results_json
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
