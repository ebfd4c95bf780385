"""The report's views (what a reader sees) and the page features of issue 15 items 7 and 8:
the verdict in the gutter, failures to step through, plain zero counts, scrolling tables, a
dark stylesheet, loss charts with labelled axes from a sensible baseline; and the report reads
the markdown as the runner does (one parser: a fence after ``<div>`` is no block for either,
a fence inside an admonition is a block for both).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.lesson import parse_lesson
from harness.report import LessonPage, build_report, loss_chart, write_report
from harness.report.article import lay_out
from harness.results import LessonRecord
from tests.paths import ROOT, SAMPLES
from tests.report_pages import bench_document, mini

UNUSABLE = {  # samples of unusable input: parse_lesson refuses them
    "input_alias_bomb.md",
    "input_directive_nan.md",
    "input_directive_week.md",
    "input_id_dotdot.md",
}
LESSONS = [*sorted(p for p in SAMPLES.rglob("*.md")), ROOT / "lessons" / "dl.md"]


# lesson paths in results are relative to the directory the check ran in (conftest)
pytestmark = pytest.mark.usefixtures("at_root")


def mini_page() -> LessonPage:
    (page,) = build_report([mini()]).pages
    return page


def results(
    path: str, blocks: dict[int, str], claims: dict[int, tuple[int, str]]
) -> dict[str, Any]:
    """A results document by hand: block line -> status, claim line -> (block, verdict)."""
    return {
        "schema": 1,
        "environment": {"devices": ["cpu"]},
        "lessons": [
            {
                "path": path,
                "id": Path(path).stem,
                "title": "t",
                "blocks": [
                    {"line": line, "language": "python", "results": {"cpu": {"status": status}}}
                    for line, status in blocks.items()
                ],
                "claims": [
                    {
                        "line": line,
                        "block": block,
                        "kind": "shape",
                        "text": "[1]",
                        "results": {"cpu": {"verdict": verdict, "expected": "[1]"}},
                    }
                    for line, (block, verdict) in claims.items()
                ],
            }
        ],
    }


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_report_lays_out_exactly_the_blocks_the_runner_reads(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    page = LessonPage(LessonRecord(relative), ["cpu"], "x.html", [])
    page.read_source()
    if path.name in UNUSABLE:  # the report shows them without their directives
        assert page.parsed is None and page.parse_problem.startswith(f"{relative}:")
        return
    lay_out(page)
    assert page.layout is not None and page.parsed is not None, page.parse_problem
    assert sorted(page.layout.views) == sorted(f.line for f in page.parsed.fences)


def test_a_fence_right_after_a_div_is_no_block_for_the_report_as_for_the_runner(
    tmp_path: Path,
) -> None:
    text = "# Div\n\n<div>\n```python\nx = 1  # [1]\n```\n</div>\n\n```python\ny = 2\n```\n"
    (tmp_path / "div.md").write_text(text, encoding="utf-8")
    assert [f.line for f in parse_lesson(text, "div.md").fences] == [9]
    document = results("div.md", {9: "passed"}, {})
    (page,) = build_report([document], root=tmp_path).pages
    assert page.layout is not None and sorted(page.layout.views) == [9]
    assert page.leftovers == []
    out = write_report([document], tmp_path / "out", root=tmp_path)
    html = out[1].read_text(encoding="utf-8")
    assert 'id="B4"' not in html and 'id="B9"' in html
    assert "&lt;div&gt;" in html and "<div>\n```" not in html  # the raw HTML, escaped


def test_blocks_inside_admonitions_show_as_code_with_their_verdicts(tmp_path: Path) -> None:
    path = "tests/samples/formats/admonitions.md"
    document = results(path, {6: "passed", 12: "failed"}, {8: (6, "passed"), 13: (12, "failed")})
    (page,) = build_report([document]).pages
    assert page.layout is not None
    view = page.layout.views[6]
    assert view.lines is not None and [ln.number for ln in view.lines] == [7, 8]
    assert view.lines[1].claim is not None and view.lines[1].claim.verdict == "passed"
    assert page.leftovers == []
    html = write_report([document], tmp_path / "out")[1].read_text(encoding="utf-8")
    assert re.search(
        r'id="L8" data-verdict="passed"><span class="gutter">.*?class="mark passed"', html
    )
    assert 'id="L13" data-verdict="failed"' in html
    assert '<p class="admonition-title">!!! note &quot;Setup&quot;</p>' in html  # as written


def test_the_mini_lessons_failures_are_steps_with_previous_and_next() -> None:
    page = mini_page()
    assert [(f.line, f.anchor) for f in page.failures()] == [(27, "L27"), (46, "L46")]
    first, second = page.steps["L27"], page.steps["L46"]
    assert (first.number, first.total, first.previous, first.next) == (1, 2, "", "L46")
    assert (second.number, second.previous, second.next) == (2, "L27", "")
    layout = page.layout
    assert layout is not None
    (claim,) = [c for c in layout.claims if c.line == 27]
    assert (claim.verdict, claim.symbol, claim.anchor) == ("failed", "\u2717", "L27")


def test_the_gutter_holds_each_claims_verdict_and_each_failure_a_stepper(tmp_path: Path) -> None:
    html = write_report([mini()], tmp_path)[1].read_text(encoding="utf-8")
    line = html[html.index('id="L27"') :]
    gutter = line[: line.index("<code>")]
    assert 'class="mark failed"' in gutter and "\u2717" in gutter
    assert 'class="mark passed"' in html[html.index('id="L26"') :].split("<code>")[0]
    stepper = line[: line.index('id="L28"')]
    assert '<span class="what">failure 1 of 2</span>' in stepper
    assert '<a href="#L46" rel="next">next' in stepper and 'href="#failures"' in stepper
    assert 'id="failures"' in html
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {link for link in re.findall(r'href="#([^"]+)"', html)} <= ids


def test_zero_counts_are_plain_text_and_durations_are_shown(tmp_path: Path) -> None:
    document = mini()
    for claim in document["lessons"][0]["claims"]:
        claim["results"]["cpu"]["verdict"] = "passed"  # no claim failed: "0 failed"
    pages = write_report([document], tmp_path)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r'class="pill[^"]*">0 ', html), page.name
    lesson = pages[1].read_text(encoding="utf-8")
    counts = lesson[lesson.index('<table class="counts">') : lesson.index("</table>")]
    assert '<span class="count zero">0 failed</span>' in counts
    head = lesson[lesson.index('id="B33"') : lesson.index("</header>", lesson.index('id="B33"'))]
    seconds = mini()["lessons"][0]["blocks"][2]["results"]["cpu"]["seconds"]
    assert seconds and '<span class="time"' in head


def test_tables_scroll_inside_their_box_and_a_dark_stylesheet_is_there(tmp_path: Path) -> None:
    benchmark = bench_document(ROOT / "tests/samples/report-mini.md", 33)
    for page in write_report([mini()], tmp_path, [benchmark]):
        html = page.read_text(encoding="utf-8")
        main = html[html.index("</style>") :]
        article = main[main.find('<main class="article">') :] if "article" in main else ""
        tables = re.findall(r'(<div class="scroll">\n)?<table class="(\w+)"', main)
        assert tables, page.name
        assert all(wrapped for wrapped, _ in tables), page.name  # counts, lessons, bench
        assert (
            "<table>" not in article
            or ".article table { display: block; overflow-x: auto; }" in html
        )
        assert "@media (prefers-color-scheme: dark)" in html and "<script" not in html


def test_loss_charts_start_at_zero_with_labelled_axes(tmp_path: Path) -> None:
    chart = loss_chart("cpu", [2.0, 1.95, 1.9], "run")
    assert chart is not None and (chart.floor, chart.ceiling) == (0.0, 2.0)
    last = chart.points.split()[-1].split(",")
    drop = (float(last[1]) - chart.top) / chart.plot_height
    assert 0.04 < drop < 0.06  # a 5 % drop looks like 5 %, not like the whole axis
    assert [label for _, label in chart.y_ticks] == ["0", "1", "2"]
    negative = loss_chart("cpu", [-1.0, -3.0], "run")
    assert negative is not None and negative.floor == -3.0
    html = write_report([mini()], tmp_path)[1].read_text(encoding="utf-8")
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'viewBox="0 0 480 200"' in svg
    assert ">step</text>" in svg and ">loss</text>" in svg
    assert ">0</text>" in svg  # the y axis' baseline
