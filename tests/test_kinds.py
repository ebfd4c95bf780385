"""Claim kinds as plug-ins: the registry, and a toy kind added in one file.

``tests/samples/kinds/dtype_kind.py`` reads ``# dtype: torch.float32`` comments; the test
loads it through the registry (``kinds.load``), which names it in ``HARNESS_CLAIM_KINDS`` so
that the worker processes (and a ``harness check`` started from here) load it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.claims import find_claims, kinds, read_comments
from harness.claims.model import Wrap
from harness.lesson import read_lesson
from harness.run.runner import check_lesson
from tests.lessons import harness_check
from tests.paths import ROOT, SAMPLES

KIND = SAMPLES / "kinds" / "dtype_kind.py"
SAMPLE = SAMPLES / "kinds" / "dtype.md"
SHOWN = SAMPLE.relative_to(ROOT).as_posix()  # the path a check from ROOT names
RIGHT, WRONG, WIDE = 9, 10, 11  # lines of dtype.md: float32 right, float32 wrong, float64


@pytest.fixture
def dtype_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[kinds.Kind]:
    monkeypatch.setenv(kinds.ENVIRONMENT, "")  # restored (without the toy kind) afterwards
    kinds.load(str(KIND))
    try:
        yield kinds.named("dtype")
    finally:
        kinds.unregister("dtype")


def test_the_built_in_kinds_are_tried_in_order() -> None:
    names = [kind.name for kind in kinds.reading_order()]
    assert names == ["shape", "formula", "behaviour", "printed", "output"]
    with pytest.raises(KeyError, match="no claim kind named 'dtype'"):
        kinds.named("dtype")


def test_without_the_kind_its_comments_are_prose() -> None:
    claims, prose = read_comments(read_lesson(SAMPLE))
    assert claims == []
    assert [c.line for c in prose] == [RIGHT, WRONG, WIDE]


def test_a_kind_registered_before_another_is_tried_first(dtype_kind: kinds.Kind) -> None:
    kinds.register(dtype_kind, before="shape")
    assert [k.name for k in kinds.reading_order()][:2] == ["dtype", "shape"]
    assert "dtype" not in [k.name for k in kinds.reading_order()][2:]  # replaced, not added


def test_a_kind_in_one_file_is_found_placed_and_carries_what_it_read(
    dtype_kind: kinds.Kind,
) -> None:
    claims = {c.line: c for c in find_claims(read_lesson(SAMPLE))}
    assert {line: c.kind for line, c in claims.items()} == dict.fromkeys(
        (RIGHT, WRONG, WIDE), "dtype"
    )
    wrong = claims[WRONG]
    assert wrong.parsed == "torch.float32"  # read once, carried to the checks
    assert wrong.subject == "y"
    (place,) = wrong.places
    assert isinstance(place, Wrap) and (place.line, place.col) == (WRONG, 4)  # torch.arange(3)
    assert "parsed" not in repr(wrong)  # not part of the claim's identity (cache keys)


def test_a_kind_in_one_file_is_checked_and_fails_with_claimed_and_found(
    dtype_kind: kinds.Kind,
) -> None:
    result = check_lesson(read_lesson(SAMPLE), ["cpu"])  # checked in a worker process
    verdicts = {line: result.verdicts[line]["cpu"].verdict for line in (RIGHT, WRONG, WIDE)}
    assert verdicts == {RIGHT: "passed", WRONG: "failed", WIDE: "passed"}
    assert result.failures() == [
        f"{SAMPLE}:{WRONG}: [cpu] y: expected torch.float32, got torch.int64"
    ]


def test_a_kind_in_one_file_is_shown_in_the_report(dtype_kind: kinds.Kind, tmp_path: Path) -> None:
    report, results = tmp_path / "report", tmp_path / "results.json"
    done = harness_check(
        SHOWN, "--devices", "cpu", "--no-cache", "--report", str(report), "--json", str(results)
    )
    assert done.returncode == 1, done.stderr
    assert f"{SHOWN}:{WRONG}: [cpu] y: expected torch.float32, got torch.int64" in done.stdout
    (lesson,) = json.loads(results.read_text(encoding="utf-8"))["lessons"]
    kinds_seen = {c["line"]: c["kind"] for c in lesson["claims"]}
    assert kinds_seen == dict.fromkeys((RIGHT, WRONG, WIDE), "dtype")
    pages = [p for p in report.glob("*.html") if p.name != "index.html"]
    (page,) = pages
    html = page.read_text(encoding="utf-8")
    assert "expected torch.float32, got torch.int64" in html
    assert "dtype: torch.float32" in html
