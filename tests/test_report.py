"""The HTML report (issue 6): built from JSON results only, self-contained and escaped.

Most tests use ``tests/samples/report-mini.{md,json}``: a small lesson and the results
``harness check`` wrote for it (a passed, a failed, an unchecked and a not-run claim, a bash
fence, a NameError, a training loop with ``losses`` and a lesson note), with ``<script>`` in
its prose, code and stdout.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.report import highlight_lines, loss_chart, read_inputs, write_report
from harness.results import results_json
from tests.conftest import ROOT, SAMPLES
from tests.lessons import check_text, mutate

MINI = SAMPLES / "report-mini.json"
MINI_PAGE = "report-mini.html"
PROSE_LINKS = ("https://pytorch.org/docs", "https://example.com/diagram.png")
EXTERNAL_TAGS = {"script", "img", "link", "iframe", "object", "embed", "video", "audio", "source"}


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, ids, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.append((tag, found))
        token = tag == "span" and re.fullmatch(r"[a-z]{1,2}[0-9]?", found.get("class", ""))
        if not token and tag not in ("strong", "em", "b", "i"):
            self.text_parts.append(" ")  # elements apart, highlighted tokens together

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.tags if "id" in attrs]

    def by_id(self, name: str) -> tuple[str, dict[str, str]]:
        (found,) = [(tag, attrs) for tag, attrs in self.tags if attrs.get("id") == name]
        return found

    def links(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.tags if tag == "a" and "href" in attrs]


def text_of(html: str) -> str:
    return Page(html).text


def between(html: str, start: str, end: str) -> str:
    """The page's text from the element with id ``start`` to the one with id ``end``."""
    first = html.index(f'id="{start}"')
    last = html.index(f'id="{end}"', first)
    return text_of(html[html.rindex("<", 0, first) : html.rindex("<", 0, last)])


def summary(html: str) -> str:
    return html[html.index('<header class="summary">') : html.index("<main")]


def mini() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINI.read_text(encoding="utf-8"))
    return data


def on_device(document: dict[str, Any], device: str) -> dict[str, Any]:
    """The document as a runner with only ``device`` would have written it."""
    moved = copy.deepcopy(document)
    moved["environment"]["devices"] = [device]
    for lesson in moved["lessons"]:
        for item in lesson["blocks"] + lesson["claims"]:
            (result,) = item["results"].values()
            item["results"] = {device: result}
    return moved


def claim(document: dict[str, Any], line: int) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for lesson in document["lessons"] for c in lesson["claims"] if c["line"] == line
    )
    return found


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lesson paths in results are relative to the directory the check ran in."""
    monkeypatch.chdir(ROOT)


def build(tmp_path: Path, *documents: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    out = tmp_path / "report"
    written = write_report(list(documents), out, **kwargs)
    assert written[0] == out / "index.html"
    return {path.name: path.read_text(encoding="utf-8") for path in written}


# ---------------------------------------------------------------- what a failure looks like


def test_a_failed_claim_shows_at_its_line_with_claimed_and_found(tmp_path: Path) -> None:
    html = build(tmp_path, mini())[MINI_PAGE]
    page = Page(html)
    _, attrs = page.by_id("L27")
    assert attrs["data-verdict"] == "failed"
    assert attrs["class"].split() == ["line", "claim", "failed"]
    shown = between(html, "L27", "L28")
    assert shown.startswith("27 z = x.t() # [2, 3]")
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
    lesson.write_text(mutate(111, "# [1, 3]", "# [1, 4]"), encoding="utf-8")
    result = check_text(lesson.read_text(encoding="utf-8"), "lessons/dl.md")
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


def bench_document(lesson: Path, block: int) -> dict[str, Any]:
    """pytest-benchmark's saved format, as ``tox -e bench`` writes it for one training loop."""
    return {
        "machine_info": {"node": "vm", "machine": "x86_64", "cpu": {"brand_raw": "Test CPU"}},
        "commit_info": {"id": "0123456789abcdef", "dirty": False},
        "datetime": "2026-11-24T04:44:28.287990+00:00",
        "version": "5.3.1",
        "benchmarks": [
            {
                "name": f"test_harness_loop[L{block}-cpu]",
                "group": f"training loop L{block} [cpu]",
                "stats": {"mean": 0.0025, "stddev": 0.0001, "rounds": 15, "min": 0.002},
                "extra_info": {
                    "lesson": str(lesson),
                    "block": block,
                    "device": "cpu",
                    "steps": 5,
                    "samples": 25,
                    "steps_per_second": 2000.0,
                    "samples_per_second": 10000.0,
                    "losses": [0.6, 0.5, 0.4, 0.3, 0.2],
                },
            },
            {"name": "test_plain_run", "stats": {"mean": 4.5, "rounds": 5}, "extra_info": {}},
        ],
    }


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


# ---------------------------------------------------------------- the commands


def test_harness_report_merges_a_cpu_and_a_gpu_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gpu = on_device(mini(), "cuda")
    claim(gpu, 26)["results"]["cuda"].update(verdict="failed", actual="[4]")
    (tmp_path / "gpu.json").write_text(json.dumps(gpu), encoding="utf-8")
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(bench_document(Path("tests/samples/report-mini.md"), 33)))
    out = tmp_path / "reports"
    code = main(["report", str(MINI), str(tmp_path / "gpu.json"), str(bench), "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out == f"report: {out / 'index.html'} (1 lesson page)\n"
    html = (out / MINI_PAGE).read_text(encoding="utf-8")
    assert re.findall(r'<th scope="col" class="device">(\w+)</th>', html) == ["cpu", "cuda"]
    assert "cuda claimed [3], found [4]" in between(html, "L26", "L27")
    assert "2.5 ms" in html  # the benchmark figures


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot be read (No such file or directory)"),
        (b"{not json", "is not JSON (Expecting property name"),
        (b"\xff\xfe", "is not UTF-8 (byte 0)"),
        (b'{"schema": 1}', "neither JSON results nor pytest-benchmark JSON"),
    ],
)
def test_harness_report_names_an_unusable_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content)
    assert main(["report", str(MINI), str(bad), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{bad}: {reason}") and captured.err.count("\n") == 1
    assert not list(tmp_path.glob("out/*"))  # nothing written (--out may be made, empty)


def test_harness_report_needs_a_results_file_and_a_writable_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(bench_document(Path("x.md"), 1)))
    assert main(["report", str(bench)]) == 2
    assert (
        capsys.readouterr().err == f"{bench}: pytest-benchmark JSON only; give a results file too\n"
    )
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(SystemExit) as exited:  # refused with the arguments, before reading
        main(["report", str(MINI), "--out", str(blocked)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"'{blocked}' is a file, not a folder" in err and err.count("\n") == 1


def test_check_with_report_writes_the_pages_from_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, out = tmp_path / "results.json", tmp_path / "reports"
    lesson = "tests/samples/report-mini.md"
    code = main(["check", lesson, "--devices", "cpu", "--json", str(results), "--report", str(out)])
    assert code == 1  # the lesson's claim at line 27 is false
    printed = capsys.readouterr().out.splitlines()
    assert f"report: {out / 'index.html'} (1 lesson page)" in printed
    assert "(blocks); claims: " in printed[-1]  # the closing line stays last
    html = (out / MINI_PAGE).read_text(encoding="utf-8")
    (written,) = json.loads(results.read_text(encoding="utf-8"))["lessons"]
    for item in written["claims"]:
        verdict = item["results"]["cpu"]["verdict"]
        assert Page(html).by_id(f"L{item['line']}")[1]["data-verdict"] == verdict
    assert '<a href="#L27">line 27</a>' in summary(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


def test_the_pytest_plugin_writes_the_report_from_the_main_process_under_xdist(
    tmp_path: Path,
) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(SAMPLES / "report-mini.md", lessons / "mini.md")
    options = ["-n", "2", "--rootdir", "lessons", "--devices", "cpu", "--harness-report", "reports"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "lessons/mini.md", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # line 27 and the NameError
    assert f"harness report: reports{os.sep}index.html" in done.stdout
    reports = tmp_path / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["index.html", "report-mini.html"]
    html = (reports / MINI_PAGE).read_text(encoding="utf-8")
    assert "<code>mini.md</code>" in html  # its path, relative to the rootdir (lessons/) ...
    assert "The lesson text is missing" not in html  # ... is read there, not from the cwd
    page = Page(html)
    assert [page.by_id(f"L{n}")[1]["data-verdict"] for n in (26, 27, 28, 47)] == [
        "passed",
        "failed",
        "unchecked",
        "not-run",
    ]
    assert 'id="B15"' in html and 'id="B45"' in html  # every worker's items, merged once


# ---------------------------------------------------------------- directives, hidden blocks,
# console sessions, prose and coverage (the sample lessons of tests/samples/claims/)

DIRECTIVES = "tests/samples/claims/directives.md"
CONSOLE = "tests/samples/claims/console.md"


@pytest.fixture(scope="module")
def samples_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What ``harness check`` wrote for the two sample lessons (run once, from the root)."""
    folder = tmp_path_factory.mktemp("samples")
    results = folder / "results.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        patch.setenv("HARNESS_CACHE_DIR", str(folder / "cache"))
        code = main(["check", DIRECTIVES, CONSOLE, "--devices", "cpu", "--json", str(results)])
    assert code == 1  # the block at line 24 raises no ValueError, as its directive wants
    data: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    return data


def lesson_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(lesson for lesson in document["lessons"] if lesson["path"] == path)
    return found


def assert_links_land(pages: dict[str, str]) -> None:
    for name, html in pages.items():
        page = Page(html)
        ids = page.ids()
        assert len(ids) == len(set(ids)), name
        for link in page.links():
            target, _, anchor = link.partition("#")
            if target.startswith("https:"):
                continue
            if target:
                assert target in pages, (name, link)
            if anchor:
                assert anchor in Page(pages[target or name]).ids(), (name, link)


def test_directives_show_as_labels_never_as_comment_text(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    pages = build(tmp_path, samples_results)
    html = pages["directives.html"]
    text = text_of(html)
    assert "harness:" not in text and "<!--" not in text and "-->" not in text
    assert "&lt;!--" not in html and "--&gt;" not in html
    assert "skipped: downloads a dataset" in between(html, "B8", "L9")
    assert "expects ZeroDivisionError" in between(html, "B14", "L15")
    assert "expects LookupError" in between(html, "B19", "L20")
    assert "expects ValueError" in between(html, "B24", "L25")
    labels = between(html, "B30", "L31")
    assert "time limit 20 s" in labels and "runs with 'epochs = 500' → 'epochs = 2'" in labels
    assert between(html, "L31", "L32") == "31 epochs = 500"  # the article's text, unreplaced
    assert 'class="directive replace"' in html
    assert "expects" not in between(html, "B45", "L46")  # no directive: no label
    # the failure at the directive's line names it, without a link to a line not on the page
    note = html[html.index('id="E24-1"') : html.index('id="B30"')]
    assert "(raised at line 23)" in text_of(note) and 'href="#L23"' not in note
    assert_links_land(pages)


def test_a_hidden_block_is_folded_where_its_comment_stands_with_its_status(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    html = build(tmp_path, samples_results)["directives.html"]
    start = html.index('<details class="hidden-block">')
    assert html.index('id="B30"') < start < html.index('id="B39"') < html.index('id="B45"')
    hidden = html[start : html.index("</details>", html.index('id="B39"'))]
    summary_line = hidden[: hidden.index("</summary>")]
    assert text_of(summary_line) == "hidden block (runs, not shown in the article) cpu passed"
    assert between(html, "L40", "L41") == "40 assert done == 2, done"
    assert between(html, "L41", "B45").startswith("41 hidden_value = 42")
    assert 'class="block python hidden" id="B39"' in hidden
    assert "Results that match no block" not in html  # the hidden block is not a leftover


def test_a_hidden_block_that_failed_is_shown_unfolded(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    document = copy.deepcopy(samples_results)
    (block,) = [b for b in lesson_of(document, DIRECTIVES)["blocks"] if b["line"] == 39]
    block["results"]["cpu"].update(
        status="failed",
        error={"type": "AssertionError", "message": "<b>3</b>", "line": 40, "traceback": ""},
    )
    pages = build(tmp_path, document)
    html = pages["directives.html"]
    assert '<details class="hidden-block" open>' in html
    assert "cpu failed" in text_of(html[html.index('class="hidden-block"') :][:400])
    assert Page(html).by_id("L40")[1]["class"].split() == ["line", "error"]
    assert "AssertionError: &lt;b&gt;3&lt;/b&gt;" in html and "<b>3" not in html
    assert '<a href="#L40">line 40</a>' in summary(html)
    assert_links_land(pages)


def test_prose_lines_are_tagged_without_a_verdict(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    html = build(tmp_path, samples_results)["directives.html"]
    _, attrs = Page(html).by_id("L20")
    assert attrs["class"].split() == ["line", "prose"] and "data-verdict" not in attrs
    assert between(html, "L20", "B24").endswith("# a KeyError is a LookupError: this passes prose")
    assert 'class="prose-tag"' in html[html.index('id="L46"') :]
    assert Page(html).by_id("L41")[1]["class"] == "line"  # no comment: no tag
    prose = html[html.index('<details class="prose-list">') : html.index("</header>")]
    assert "2 prose comments (not claims, not checked)" in text_of(prose)
    assert '<a href="#L20">line 20</a> <code>a KeyError is a LookupError: this passes</code>' in (
        prose
    )


def test_coverage_counts_show_on_the_lesson_page_and_the_index(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    pages = build(tmp_path, samples_results)
    assert lesson_of(samples_results, DIRECTIVES)["coverage"]["prose"] == 2
    directives = text_of(summary(pages["directives.html"]))
    expected = "Comments 2 comments 0 claims 0 checked 0 unchecked 0 not run 2 prose"
    assert expected in directives
    console = text_of(summary(pages["console.html"]))
    assert "Comments 0 comments 7 claims 7 checked 0 unchecked 0 not run 0 prose" in console
    index = pages["index.html"]
    assert '<th scope="col" class="coverage-head">Comments</th>' in index
    rows = re.findall(r"<tr.*?</tr>", index, re.S)[1:]
    assert "7 claims 7 checked" in text_of(rows[0]) and "console.html" in rows[0]
    assert "2 comments 0 claims" in text_of(rows[1]) and "directives.html" in rows[1]


def test_results_without_coverage_or_prose_are_tolerated(tmp_path: Path) -> None:
    assert "coverage" not in mini()["lessons"][0]  # written before these fields existed
    pages = build(tmp_path, mini())
    assert (
        '<p class="coverage">' not in pages[MINI_PAGE]
        and '<details class="prose-list">' not in pages[MINI_PAGE]
    )
    assert "not in these results" in text_of(pages["index.html"])
    document = mini()
    document["lessons"][0].update(coverage={"comments": "many"}, prose=[{"text": "no line"}, 3])
    html = build(tmp_path, document)[MINI_PAGE]
    assert '<p class="coverage">' not in html and '<details class="prose-list">' not in html


def test_a_console_session_shows_its_prompts_and_outputs_with_claims_on_output_lines(
    tmp_path: Path, samples_results: dict[str, Any]
) -> None:
    document = copy.deepcopy(samples_results)
    failed = claim(document, 25)
    assert (failed["kind"], failed["text"]) == ("output", "tensor(4.)")
    failed["results"]["cpu"].update(verdict="failed", actual="tensor(<5.>)")
    pages = build(tmp_path, document)
    html = pages["console.html"]
    page = Page(html)
    assert between(html, "L8", "L9") == "8 >>> import torch"  # the markdown, not the code run
    assert between(html, "L24", "L25") == "24 >>> y.sum()"
    assert "data-verdict" not in page.by_id("L24")[1]
    assert page.by_id("L25")[1]["data-verdict"] == "failed"
    at_25 = between(html, "L25", "L26")
    assert at_25.startswith("25 tensor(4.) output ✗ cpu")
    assert "claimed tensor(4.), found tensor(<5.>)" in at_25
    assert "tensor(&lt;5.&gt;)" in html and "tensor(<5" not in html
    assert '<a href="#L25">line 25</a>' in summary(html)
    assert page.by_id("L15")[1]["data-verdict"] == "passed"  # print(...) then 0.0
    assert between(html, "L15", "L16").startswith("15 0.0 output ✓ cpu")
    assert page.by_id("L11")[1]["data-verdict"] == "passed"  # torch.Size([...]): a shape
    assert between(html, "L11", "L12").startswith("11 torch.Size([5, 3, 4, 1]) shape ✓ cpu")
    # an expected output of two lines: the claim at its first, the next line tinted with it
    assert page.by_id("L30")[1]["data-verdict"] == "passed"
    assert page.by_id("L31")[1]["class"].split() == ["line", "continued", "passed"]
    assert between(html, "L29", "L30") == "29 ... print(i)"
    assert '<span class="gp">&gt;&gt;&gt; </span>' in html  # highlighted as a console session
    assert "console session" in between(html, "B22", "L23")
    assert_links_land(pages)


def test_directives_hidden_blocks_and_comments_stay_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = tmp_path / "sly.md"
    lesson.write_text(
        "# Sly <!-- <script>alert(0)</script> --> lesson\n"
        "\n"
        "Prose with a comment <!-- <img src=x onerror=alert(1)> --> and <b>raw</b> HTML.\n"
        "\n"
        '<!-- harness: skip "<script>alert(2)</script>" -->\n'
        "```python\n"
        "import nothing_here\n"
        "```\n"
        "\n"
        '<!-- harness: replace "<i>" "<em>" -->\n'
        "```python\n"
        'tag = "<i>"  # <script>alert(3)</script>\n'
        "print(tag)\n"
        "```\n"
        "\n"
        "<!-- a comment of the author's, with a fence that never runs\n"
        "```python\n"
        'print("<script>alert(4)</script>")\n'
        "```\n"
        "-->\n"
        "\n"
        "<!-- harness: hidden\n"
        "```python\n"
        'print("<script>alert(5)</script>")\n'
        "```\n"
        "-->\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    results = tmp_path / "results.json"
    assert main(["check", "sly.md", "--devices", "cpu", "--json", str(results)]) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    pages = build(tmp_path, document)
    html = pages["sly.html"]
    for name, page_html in pages.items():
        assert "<script" not in page_html.lower() and "<img" not in page_html.lower(), name
        assert "alert(0)" not in page_html and "alert(1)" not in page_html, name
        assert "Sly lesson" in text_of(page_html), name  # the title without its comment
    text = text_of(html)
    assert "harness:" not in text and "alert(4)" not in html  # comments render as nothing
    assert "Prose with a comment and <b>raw</b> HTML." in text  # other raw HTML stays text
    assert "&lt;b&gt;raw&lt;/b&gt;" in html
    assert "skipped: &lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "runs with &#39;&lt;i&gt;&#39; → &#39;&lt;em&gt;&#39;" in html
    assert "&lt;em&gt;\n</pre>" in html  # what the replaced block printed
    hidden = html[html.index('<details class="hidden-block">') :]
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in hidden
    assert "cpu passed" in text_of(hidden[: hidden.index("</summary>")])
    assert_links_land(pages)


def test_a_lesson_that_no_longer_parses_still_hides_comments_and_shows_hidden_blocks(
    tmp_path: Path, samples_results: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / DIRECTIVES
    changed.parent.mkdir(parents=True)
    shutil.copy(ROOT / CONSOLE, tmp_path / CONSOLE)
    source = (ROOT / DIRECTIVES).read_text(encoding="utf-8")
    changed.write_text(source + '\n<!-- harness: skp "typo" -->\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    pages = build(tmp_path, samples_results)
    html = pages["directives.html"]
    assert "The lesson text does not parse now:" in text_of(html)
    assert "unknown directive &#39;skp&#39;" in html
    assert "harness:" not in text_of(html[html.index("<main") :])
    assert 'id="B39"' in html[html.index('<details class="hidden-block">') :]
    assert "skipped: downloads a dataset" not in html  # unknown without the parse
    assert_links_land(pages)


# ---------------------------------------------------------------- output integrity (issue 11)


def test_lone_surrogates_in_output_are_escaped_and_the_report_is_written_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = mini()
    lesson = document["lessons"][0]
    lesson["blocks"][1]["results"]["cpu"]["stdout"] = "a\udc80b <script>\n"
    lesson["blocks"][3]["results"]["cpu"]["error"]["message"] = "bad \ud800 here"
    document["problems"] = ["lessons/\udcff.md: is not UTF-8 (byte 0)"]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(document), encoding="utf-8")  # \udc80 as a JSON escape
    out = tmp_path / "reports"
    assert main(["report", str(results), "--out", str(out)]) == 0, capsys.readouterr().err
    html = (out / MINI_PAGE).read_text(encoding="utf-8")  # strict UTF-8: written whole
    assert "a\\udc80b &lt;script&gt;" in html and "bad \\ud800 here" in html
    assert "lessons/\\udcff.md: is not UTF-8" in (out / "index.html").read_text(encoding="utf-8")
    assert "</html>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../secret.md",
        "{outside}/secret.md",
        "sub/../../secret.md",
        "link.md",
        "notes.txt",
        "..",
    ],
)
def test_harness_report_refuses_a_lesson_path_outside_the_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
) -> None:
    (tmp_path / "secret.md").write_text("```python\nSECRET = 1\n```\n")
    here = tmp_path / "run"
    (here / "sub").mkdir(parents=True)
    (here / "link.md").symlink_to(tmp_path / "secret.md")
    (here / "notes.txt").write_text("SECRET")
    monkeypatch.chdir(here)
    document = mini()
    document["lessons"][0]["path"] = path.format(outside=tmp_path)
    Path("results.json").write_text(json.dumps(document), encoding="utf-8")
    assert main(["report", "results.json", "--out", "out"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"results.json: lesson path {document['lessons'][0]['path']!r} refused:")
    assert f"the report reads only .md files inside {here}" in err
    assert not list(Path().glob("out/*.html"))  # nothing written
    # write_report itself (the pytest plugin's way in) does not read it either
    html = build(tmp_path, document)[MINI_PAGE]
    assert "SECRET" not in html and "root:" not in html
    assert "was not read:" in text_of(html)


def test_a_lesson_path_inside_the_folder_is_read_absolute_or_relative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (
        str(ROOT / "tests/samples/report-mini.md"),
        "tests/../tests/samples/report-mini.md",
    ):
        document = mini()
        document["lessons"][0]["path"] = path
        results = tmp_path / "results.json"
        results.write_text(json.dumps(document), encoding="utf-8")
        assert main(["report", str(results), "--out", str(tmp_path / "out")]) == 0
        html = (tmp_path / "out" / MINI_PAGE).read_text(encoding="utf-8")
        assert "The lesson text is missing" not in html and 'id="L27"' in html
    capsys.readouterr()


def test_a_checked_lesson_outside_the_folder_is_still_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``harness check ../x.md --report r``: the run's own lessons are read wherever they are."""
    here = tmp_path / "run"
    here.mkdir()
    shutil.copy(SAMPLES / "report-mini.md", tmp_path / "mini.md")
    monkeypatch.chdir(here)
    document = mini()
    document["lessons"][0]["path"] = "../mini.md"
    html = build(tmp_path, document, checked=["../mini.md"])[MINI_PAGE]
    assert "The lesson text is missing" not in html and 'id="L27"' in html


def test_harness_report_names_json_nested_too_deeply_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["report", str(deep), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"{deep}: is not usable JSON (nested too deeply)\n"


def test_a_long_or_odd_lesson_id_gives_a_short_file_name_inside_the_folder(
    tmp_path: Path,
) -> None:
    document = mini()
    document["lessons"][0]["id"] = "../" + "x" * 1000 + "\udc80"
    pages = build(tmp_path, document)
    (name,) = [name for name in pages if name != "index.html"]
    assert name == "-" + "x" * 97 + ".html"  # "../" made safe, cut at 100, dots stripped
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(pages)
