"""The article of a lesson page: directives as labels, hidden blocks folded where their comment
stands, prose comments, coverage, console sessions, and comments that stay hidden and escaped."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.paths import ROOT
from tests.report_pages import (
    MINI_PAGE,
    Page,
    assert_links_land,
    between,
    build,
    claim,
    lesson_of,
    mini,
    summary,
    text_of,
)

# lesson paths in results are relative to the directory the check ran in (conftest)
pytestmark = pytest.mark.usefixtures("at_root")


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
    assert re.fullmatch(
        r"hidden block \(runs, not shown in the article\) cpu passed [0-9.]+ [µm]?s",
        text_of(summary_line),
    )
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
    assert at_25.startswith("25 ✗ tensor(4.) output ✗ cpu")
    assert "claimed tensor(4.), found tensor(<5.>)" in at_25
    assert "tensor(&lt;5.&gt;)" in html and "tensor(<5" not in html
    assert '<a href="#L25">line 25</a>' in summary(html)
    assert page.by_id("L15")[1]["data-verdict"] == "passed"  # print(...) then 0.0
    assert between(html, "L15", "L16").startswith("15 ✓ 0.0 output ✓ cpu")
    assert page.by_id("L11")[1]["data-verdict"] == "passed"  # torch.Size([...]): a shape
    assert between(html, "L11", "L12").startswith("11 ✓ torch.Size([5, 3, 4, 1]) shape ✓ cpu")
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
