"""The HTML report (issue 6): built from JSON results only, self-contained and escaped.

Most tests use ``tests/samples/report-mini.{md,json}``: a small lesson and the results
``harness check`` wrote for it (a passed, a failed, an unchecked and a not-run claim, a bash
fence, a NameError, a training loop with ``losses`` and a lesson note), with ``<script>`` in
its prose, code and stdout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.report import highlight_lines, loss_chart, read_inputs
from harness.results import results_json
from tests.lessons import check_text, five_wrong
from tests.paths import ROOT
from tests.report_pages import (
    EXTERNAL_TAGS,
    MINI,
    MINI_PAGE,
    PROSE_LINKS,
    Page,
    assert_links_land,
    bench_document,
    between,
    build,
    claim,
    mini,
    on_device,
    summary,
    text_of,
)

# lesson paths in results are relative to the directory the check ran in (conftest)
pytestmark = pytest.mark.usefixtures("at_root")


# ---------------------------------------------------------------- what a failure looks like


def test_a_failed_claim_shows_at_its_line_with_claimed_and_found(tmp_path: Path) -> None:
    html = build(tmp_path, mini())[MINI_PAGE]
    page = Page(html)
    _, attrs = page.by_id("L27")
    assert attrs["data-verdict"] == "failed"
    assert attrs["class"].split() == ["line", "claim", "failed"]
    shown = between(html, "L27", "L28")
    assert shown.startswith("27 ✗ z = x.t() # [2, 3]")  # the verdict in the gutter
    assert "cpu claimed [2, 3], found [3, 2]" in shown
    assert "dimension 1 is 2, found 3" in shown
    top = summary(html)
    assert '<a href="#L27">line 27</a>' in top
    assert "z: claimed [2, 3], found [3, 2]" in text_of(top)


def test_an_error_shows_at_its_line_with_the_traceback_folded(tmp_path: Path) -> None:
    html = build(tmp_path, mini())[MINI_PAGE]
    assert Page(html).by_id("L46")[1]["class"].split() == ["line", "error"]
    at_46 = html[html.index('id="L46"') : html.index('id="L47"')]
    assert "<strong>NameError</strong>: name &#39;undefined_name&#39; is not defined" in at_46
    assert re.search(
        r"<details class=\"traceback\"><summary>Traceback</summary><pre>Traceback", at_46
    )
    assert '<a href="#L46">line 46</a>' in summary(html)
    assert Page(html).by_id("L47")[1]["data-verdict"] == "not-run"  # after the error
    assert "2 failures" in text_of(summary(html))  # the block failed by its claim: listed once


def test_a_mutated_lesson_shows_the_failed_claim_and_links_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = tmp_path / "lessons" / "dl.md"
    lesson.parent.mkdir()
    source = five_wrong()  # line 111's claim among them
    lesson.write_text(source, encoding="utf-8")
    result = check_text(source, "lessons/dl.md")
    document = results_json([result.to_json()], ["cpu"], [])
    monkeypatch.chdir(tmp_path)
    html = build(tmp_path, document)["dl.html"]
    assert Page(html).by_id("L111")[1]["data-verdict"] == "failed"
    assert "claimed [1, 4], found [1, 3]" in between(html, "L111", "B127")
    assert '<a href="#L111">line 111</a>' in summary(html)
    assert Page(html).by_id("L262")[1]["data-verdict"] == "passed"


def test_claims_of_every_verdict_are_marked(tmp_path: Path) -> None:
    html = build(tmp_path, mini())[MINI_PAGE]
    page = Page(html)
    assert page.by_id("L26")[1]["data-verdict"] == "passed"
    assert page.by_id("L28")[1]["data-verdict"] == "unchecked"
    assert "unchecked: no variable named Input at this point" in between(html, "L28", "B33")
    assert page.by_id("L47")[1]["data-verdict"] == "not-run"
    assert "not run: its block failed before this line ran" in text_of(
        html[html.index('id="L47"') :]
    )
    assert 'class="chip passed"' in html and 'class="chip unchecked"' in html


# ---------------------------------------------------------------- several runners


def test_two_documents_with_different_devices_merge_into_one_report(tmp_path: Path) -> None:
    gpu = on_device(mini(), "cuda")
    gpu["environment"]["finished"] = "2026-11-24T05:00:00+00:00"
    claim(gpu, 26)["results"]["cuda"].update(verdict="failed", actual="[4]")
    pages = build(tmp_path, mini(), gpu)
    assert set(pages) == {"index.html", MINI_PAGE}
    index, html = pages["index.html"], pages[MINI_PAGE]
    assert re.findall(r'<th scope="col" class="device">(\w+)</th>', index) == ["cpu", "cuda"]
    assert re.findall(r'<th scope="col" class="device">(\w+)</th>', html) == ["cpu", "cuda"]
    assert "Run 1 · cpu" in index and "Run 2 · cuda" in index
    assert "2026-11-24 04:00 UTC" in index and "2026-11-24 05:00 UTC" in index
    block = html[html.index('id="B33"') : html.index('id="L34"')]
    assert ">cpu passed</span>" in block and ">cuda passed</span>" in block
    page = Page(html)
    assert page.by_id("L26")[1]["data-verdict"] == "failed"  # the worst over devices
    assert "✓ cpu" in between(html, "L26", "L27") and "✗ cuda" in between(html, "L26", "L27")
    assert "cuda claimed [3], found [4]" in between(html, "L26", "L27")
    assert '<a href="#L26">line 26</a> <span class="device">cuda</span>' in summary(html)


def test_a_device_missing_from_one_lesson_counts_as_not_run(tmp_path: Path) -> None:
    gpu = on_device(mini(), "cuda")
    gpu["lessons"] = []
    html = build(tmp_path, mini(), gpu)[MINI_PAGE]
    counts = html[html.index('<table class="counts">') : html.index("</table>")]
    cuda_cells = re.findall(r"<td>(.*?)</td>", counts, re.S)[1::2]
    assert "4 not run" in text_of(cuda_cells[0]) and "4 not run" in text_of(cuda_cells[1])


# ---------------------------------------------------------------- safe and self-contained


def test_everything_from_the_lesson_is_escaped(tmp_path: Path) -> None:
    pages = build(tmp_path, mini())
    html = pages[MINI_PAGE]
    for name, page_html in pages.items():
        assert "<script" not in page_html.lower(), name
        tags = {tag for tag, _ in Page(page_html).tags}
        assert not tags & EXTERNAL_TAGS, name
        handlers = [a for _, attrs in Page(page_html).tags for a in attrs if a.startswith("on")]
        assert handlers == [], name
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in html[html.index('id="L25"') : html.index('id="L26"')]  # the code
    stdout = html[html.index('<details class="stdout">') :]
    assert "<pre>" + escaped + "\n</pre>" in stdout  # what it printed
    assert "&lt;script&gt;alert(&quot;prose&quot;)&lt;/script&gt;" in html  # raw HTML in prose
    assert "a note that says &lt;img src=x onerror=alert(2)&gt;" in html  # a lesson note
    assert "<title>A mini lesson &lt;b&gt;for&lt;/b&gt; reports · harness report</title>" in html
    image = '<a class="image-link" href="https://example.com/diagram.png">[image: a diagram]</a>'
    assert image in html  # an image is a link: nothing is fetched


def test_nothing_is_loaded_from_anywhere(tmp_path: Path) -> None:
    benchmarks = [bench_document(ROOT / "tests/samples/report-mini.md", 33)]
    for name, html in build(tmp_path, mini(), benchmarks=benchmarks).items():
        assert 'src="http' not in html, name
        assert '<link rel="stylesheet" href=' not in html and "<link" not in html, name
        assert "@import" not in html and "url(" not in html, name
        assert "<style>" in html and "Content-Security-Policy" in html, name
        for tag, attrs in Page(html).tags:
            assert "src" not in attrs, (name, tag)
            if tag == "a" and attrs["href"].startswith(("http:", "https:")):
                assert attrs["href"] in PROSE_LINKS, attrs
            else:
                assert not re.match(r"[a-z]+:", attrs.get("href", "")), (name, tag, attrs)


def test_every_anchor_is_unique_and_every_link_lands(tmp_path: Path) -> None:
    gpu = on_device(mini(), "cuda")
    assert_links_land(build(tmp_path, mini(), gpu))


def test_a_missing_lesson_file_still_renders_with_a_note(tmp_path: Path) -> None:
    document = mini()
    document["lessons"][0]["path"] = "tests/samples/report-gone.md"
    html = build(tmp_path, document)[MINI_PAGE]
    assert "The lesson text is missing:" in text_of(html)
    assert "tests/samples/report-gone.md was not found" in text_of(html)
    page = Page(html)
    assert page.by_id("L27")[1]["data-verdict"] == "failed"
    assert "cpu claimed [2, 3], found [3, 2]" in between(html, "L27", "L28")
    assert '<a href="#L27">line 27</a>' in summary(html)
    assert "NameError" in text_of(html[html.index('id="B45"') :])
    assert "A mini lesson &lt;b&gt;for&lt;/b&gt; reports</h1>" in html  # the results' title


def test_results_from_another_version_of_the_lesson_are_shown_apart(tmp_path: Path) -> None:
    document = mini()
    lesson = document["lessons"][0]
    lesson["blocks"].append({**lesson["blocks"][1], "line": 60, "end_line": 64})
    lesson["claims"].append({**claim(document, 27), "line": 62, "block": 60})
    html = build(tmp_path, document)[MINI_PAGE]
    rest = html[html.index("Results that match no block of the current text") :]
    assert 'id="B60"' in rest and 'id="C62" data-verdict="failed"' in rest
    assert '<a href="#C62">line 62</a>' in summary(html)


# ---------------------------------------------------------------- the article


def test_the_article_is_rendered_with_the_lessons_line_numbers(tmp_path: Path) -> None:
    html = build(tmp_path, mini())[MINI_PAGE]
    assert "description:" not in html and "report-mini</p>" not in html  # front matter hidden
    assert between(html, "L22", "L23") == "22 import torch"
    assert '<span class="kn">import</span>' in html  # highlighted by Pygments
    assert "<table>" in html and "<th>Shape</th>" in html  # the tables extension
    assert html.count("<h1") == 1  # the article's title heading is the page title
    bash = html[html.index('id="B15"') : html.index('id="B21"')]
    assert ">cpu not run</span>" in bash and 'id="L16"' in bash
    assert "not run: a bash fence: only Python blocks are run" in text_of(bash)
    assert 'href="#L22">line 22</a>, <code>x</code> from <a href="#L24">line 24</a>' in html
    output = html[html.index('<details class="stdout">') :]
    assert output.startswith('<details class="stdout">\n<summary>Output <span class="muted">')


def test_a_training_loop_shows_its_loss_curve_and_benchmark_figures(tmp_path: Path) -> None:
    benchmark = bench_document(ROOT / "tests/samples/report-mini.md", 33)
    pages = build(tmp_path, mini(), benchmarks=[benchmark])
    html = pages[MINI_PAGE]
    block = html[html.index('id="B33"') : html.index('id="B45"')]
    assert block.count("<polyline") == 1  # the run's own losses win over the benchmark's
    assert "loss 0.52 → 0.22 over 5 steps" in text_of(block)
    assert "2.5 ms" in block and "± 100 µs" in block and "2,000" in block and "10,000" in block
    assert 'aria-label="Loss on cpu over 5 steps' in block
    index = pages["index.html"]
    assert '<a href="report-mini.html#B33">line 33</a>' in index
    assert "pytest-benchmark" in text_of(index)


def test_loss_charts_scale_and_leave_out_non_finite_values() -> None:
    chart = loss_chart("cpu", [2.0, float("nan"), 1.0, 0.0], "run")
    assert chart is not None and (chart.count, chart.skipped) == (3, 1)
    points = [tuple(map(float, p.split(","))) for p in chart.points.split()]
    assert points[0] == (chart.left, chart.top)
    assert points[-1] == (chart.left + chart.plot_width, chart.top + chart.plot_height)
    assert loss_chart("cpu", [], "run") is None
    assert loss_chart("cpu", ["nope"], "run") is None


def test_highlighting_keeps_one_fragment_per_lesson_line() -> None:
    code = 'x = """a\n<b>\n"""\n\n# done\n'
    lines = highlight_lines(code, "python")
    assert len(lines) == 5 and lines[3] == ""
    assert "&lt;b&gt;" in lines[1] and "<b>" not in "".join(lines)
    assert highlight_lines("echo <hi>\n", "no-such-language") == ["echo &lt;hi&gt;"]


def test_the_index_lists_lessons_counts_runs_and_problems(tmp_path: Path) -> None:
    index = build(tmp_path, mini())["index.html"]
    assert '<a href="report-mini.html">A mini lesson &lt;b&gt;for&lt;/b&gt; reports</a>' in index
    text = text_of(index)
    assert "blocks 1 passed 2 failed 1 not run" in text
    assert "claims 1 passed 1 failed 1 unchecked 1 not run" in text
    assert "lessons/bad.md:1: is not UTF-8 (byte 3)" in text
    assert "torch 2.13.0+cpu" in text and "finished 2026-11-24 04:00 UTC" in text


def test_unusual_input_is_tolerated(tmp_path: Path) -> None:
    document = mini()
    document["schema"] = 2
    lesson = document["lessons"][0]
    lesson["id"] = "index"  # the index's own name
    lesson["blocks"][1]["results"]["cpu"]["something_new"] = [1, 2]
    claim(document, 26)["results"]["cpu"]["something_new"] = True
    document["lessons"].append({"no": "path"})
    pages = build(tmp_path, document, document)  # the same claims twice: merged, folded
    assert set(pages) == {"index.html", "index-2.html"}
    assert "this report knows schema 1" in pages["index.html"]
    assert Page(pages["index-2.html"]).by_id("L26")[1]["data-verdict"] == "passed"


def test_read_inputs_tells_results_from_benchmarks(tmp_path: Path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(bench_document(Path("x.md"), 1)))
    other = tmp_path / "other.json"
    other.write_text("[]")
    documents, benchmarks = read_inputs([MINI, bench])
    assert [len(documents), len(benchmarks)] == [1, 1]
    with pytest.raises(ValueError, match=r"other\.json: neither"):
        read_inputs([other])


def test_a_block_that_ran_elsewhere_is_a_failure_at_the_line_that_moved_it(
    tmp_path: Path,
) -> None:
    gpu = on_device(mini(), "cuda")
    result = gpu["lessons"][0]["blocks"][2]["results"]["cuda"]
    result.update(flags=["ran-elsewhere"], census={"cpu": 1.0}, moved_at=35)
    html = build(tmp_path, mini(), gpu)[MINI_PAGE]
    assert Page(html).by_id("L35")[1]["class"].split() == ["line", "noted"]
    assert "this line moved the block's work off cuda" in between(html, "L35", "L36")
    assert "ran elsewhere: its torch operations ran on cpu 100%" in text_of(html)
    link = '<a href="#L35">line 35</a> <span class="device">cuda</span> ran-elsewhere'
    assert link in summary(html)


# ---------------------------------------------------------------- claim kinds beyond shapes


def test_claims_of_any_kind_show_their_text_kind_and_verdict(tmp_path: Path) -> None:
    """Kinds other than "shape" (formula, behaviour, prose) and verdicts this report does not
    know are shown as they are, never dropped or read as shapes."""
    document = mini()
    formula = claim(document, 26)
    formula.update(kind="formula", text="sum of 2 zeros is 0", subject="y")
    formula["results"]["cpu"].update(
        verdict="failed", expected="0", actual="1", message="expected 0, found 1: off by one"
    )
    prose = claim(document, 28)
    prose.update(kind="prose", text="Input shape: [2, 3]", subject="")
    prose["results"]["cpu"] = {"verdict": "noted", "message": "a remark, not a promise"}
    pages = build(tmp_path, document, document)  # twice: the unknown verdict is not folded
    html = pages[MINI_PAGE]
    page = Page(html)
    assert page.by_id("L26")[1]["data-verdict"] == "failed"
    at_26 = between(html, "L26", "L27")
    assert "formula ✗ cpu" in at_26 and "cpu claimed 0, found 1 — off by one" in at_26
    assert "y: claimed 0, found 1" in text_of(summary(html))
    assert page.by_id("L28")[1]["data-verdict"] == "noted"
    assert "prose • cpu" in between(html, "L28", "B33")
    assert "noted: a remark, not a promise" in between(html, "L28", "B33")
    assert "1 noted" in text_of(pages["index.html"])  # counted under its own name
