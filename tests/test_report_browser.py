"""The report of ``lessons/dl.md`` in a real browser: headless Chromium driven by Playwright.

Uses Debian's ``chromium`` package (``/usr/bin/chromium``, or ``HARNESS_CHROMIUM``) and the
``playwright`` Python package; Playwright's own browser download is never used. Without them
the test is skipped with the reason, never passed; with ``HARNESS_REQUIRE_BROWSER=1`` (set by
``.ci/run`` once it has installed chromium) it fails instead. With
``HARNESS_REPORT_SCREENSHOTS=DIR`` the screenshots are also saved in DIR:
``screenshot-top.png`` (the page top), ``screenshot-cnn.png`` (the CNN block),
``screenshot-page.png`` (the whole page) and ``screenshot-failure.png`` (a failed claim, reached
from the summary's link).

The reports are written the way ``tox -e lessons`` writes them: ``harness check lessons/dl.md
--json ... --report ...`` (the test session's one run, ``dl_checked``), then ``harness
report`` adds a benchmark file (for a loss curve).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.claims import find_claims
from harness.lesson import read_lesson
from tests.lessons import harness_cli
from tests.paths import LESSON, ROOT

CHROMIUM = Path(os.environ.get("HARNESS_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG = b"\x89PNG\r\n\x1a\n"
SYMBOLS = {"passed": "✓", "failed": "✗", "unchecked": "?", "not-run": "\N{EN DASH}"}
LABELS = {"not-run": "not run"}


def _missing(reason: str) -> None:
    if os.environ.get("HARNESS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HARNESS_REQUIRE_BROWSER=1, but {reason}")
    pytest.skip(reason)


def _playwright() -> Any:
    """Playwright's ``sync_playwright``, or a skip that says what is missing."""
    try:
        api = importlib.import_module("playwright.sync_api")
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set HARNESS_CHROMIUM)")
    return api.sync_playwright


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory, dl_checked: Path
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The reports and results of ``lessons/dl.md``, written as ``tox -e lessons`` does (the
    session's one ``harness check lessons/dl.md --json ... --report ...``, copied)."""
    _playwright()  # skip before spending the run when no browser can look at it
    written = f"report: {dl_checked / 'report' / 'index.html'} (1 lesson page)"
    assert written in (dl_checked / "stdout").read_text(encoding="utf-8").splitlines()
    out = Path(shutil.copytree(dl_checked / "report", tmp_path_factory.mktemp("r") / "reports"))
    assert (out / "index.html").exists() and (out / "dl.html").exists()
    results = out / "results.json"
    shutil.copy(dl_checked / "results.json", results)
    document: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    bench = out / "benchmarks.json"
    bench.write_text(json.dumps(_benchmark(document)), encoding="utf-8")
    done = harness_cli("report", str(results), str(bench), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    yield out, document


def _benchmark(results: dict[str, Any]) -> dict[str, Any]:
    """A pytest-benchmark document for the lesson's longest block, to draw a chart too."""
    (lesson,) = results["lessons"]
    block = max(lesson["blocks"], key=lambda b: b["results"]["cpu"]["seconds"])
    return {
        "datetime": "2026-11-24T04:44:28+00:00",
        "version": "5.3.1",
        "machine_info": {"node": "test", "machine": "x86_64"},
        "benchmarks": [
            {
                "name": f"test_harness_loop[L{block['line']}-cpu]",
                "stats": {"mean": 1.5, "stddev": 0.1, "rounds": 15},
                "extra_info": {
                    "lesson": "lessons/dl.md",
                    "block": block["line"],
                    "device": "cpu",
                    "steps_per_second": 100.0,
                    "samples_per_second": 3000.0,
                    "losses": [2.3 - 0.01 * step for step in range(160)],
                },
            }
        ],
    }


class Browser:
    """One headless Chromium page that records failed requests and console errors."""

    def __init__(self, playwright: Any) -> None:
        self.failed_requests: list[str] = []
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self.browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        self.page = self.browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.on("requestfailed", lambda request: self.failed_requests.append(request.url))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def assert_clean(self) -> None:
        assert self.failed_requests == []
        assert self.console_errors == []
        assert self.requests and all(url.startswith("file://") for url in self.requests)


def in_browser(check: Callable[[Browser], None]) -> None:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = Browser(playwright)
        try:
            check(browser)
        finally:
            browser.browser.close()
    browser.assert_clean()


def keep(*shots: Path) -> None:
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, shot
    target = os.environ.get("HARNESS_REPORT_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(target) / f"screenshot-{shot.name}")


def test_the_lesson_report_opens_in_chromium_with_every_claim_and_its_verdict(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, results = report
    claims = find_claims(read_lesson(LESSON))
    assert len(claims) > 30
    (lesson,) = results["lessons"]
    verdicts = {c["line"]: c["results"]["cpu"] for c in lesson["claims"]}
    assert sorted(verdicts) == sorted(c.line for c in claims)
    shots = {name: tmp_path / f"{name}.png" for name in ("top", "cnn", "page")}

    def check(browser: Browser) -> None:
        page = browser.page
        page.goto((out / "index.html").as_uri())
        assert page.title() == "Lesson report · harness"
        row = page.locator("table.lessons tbody tr")
        assert row.count() == 1
        passed = sum(v["verdict"] == "passed" for v in verdicts.values())
        assert f"{passed} passed" in row.locator(".count-line").nth(1).inner_text()
        assert "finished" in page.locator(".runs .card").first.inner_text()
        link = page.locator('a[href="dl.html"]')
        assert link.inner_text() == "Introduction to Deep Learning"
        link.click()
        page.wait_for_load_state()
        assert page.url == (out / "dl.html").as_uri()
        assert page.title() == "Introduction to Deep Learning · harness report"

        for claim in claims:
            result = verdicts[claim.line]
            verdict = result["verdict"]
            line = page.locator(f"#L{claim.line}")
            assert line.count() == 1, f"line {claim.line} is not on the page"
            assert line.get_attribute("data-verdict") == verdict, claim.line
            assert verdict in (line.get_attribute("class") or "").split()
            assert claim.text in line.locator("code").inner_text(), claim.line  # the comment
            chip = line.locator(".chip")
            assert chip.is_visible()
            assert chip.inner_text() == f"{SYMBOLS[verdict]} cpu", claim.line
            assert verdict in (chip.get_attribute("class") or "").split()
            title = chip.get_attribute("title") or ""
            assert title.startswith(f"cpu: {LABELS.get(verdict, verdict)} ({claim.kind} claim)")
            if verdict == "unchecked":  # why, right under the line
                note = page.locator(f"#L{claim.line} + .note.unchecked")
                assert note.is_visible()
                assert f"unchecked: {result['message']}" in note.inner_text()
        assert page.locator(".code .claim").count() == len(claims)
        # a curve per training loop the run recorded losses for, and the benchmark's block
        looped = {b["line"] for b in lesson["blocks"] if b["results"]["cpu"].get("losses")}
        (benchmarked,) = _benchmark(results)["benchmarks"]
        looped.add(benchmarked["extra_info"]["block"])
        assert page.locator("svg polyline.loss").count() == len(looped)
        for line in looped:
            assert page.locator(f"#B{line} svg polyline.loss").count() == 1, line
        assert page.locator("script").count() == 0
        assert page.locator("details.stdout").count() > 10
        assert not page.locator("details.stdout pre").first.is_visible()  # folded

        page.screenshot(path=str(shots["top"]))
        cnn_block = page.locator("section.block", has_text="class CNN(nn.Module)")
        page.goto(f"{page.url}#{cnn_block.get_attribute('id')}")  # its top at the top
        assert cnn_block.locator(".badge.passed").inner_text() == "cpu passed"
        page.screenshot(path=str(shots["cnn"]))
        page.screenshot(path=str(shots["page"]), full_page=True)

    in_browser(check)
    keep(*shots.values())


def test_a_wrong_claim_is_shown_failed_where_the_summary_link_lands(
    dl_wrong_checked: Path, tmp_path: Path
) -> None:
    """The report ``harness check lessons --report`` wrote of lessons/dl.md with the claim at
    line 111 made wrong (the session's one run of it)."""
    _playwright()
    assert (dl_wrong_checked / "exit").read_text() == "1"
    assert "lessons/dl.md:111: [cpu]" in (dl_wrong_checked / "stdout").read_text()
    out = dl_wrong_checked / "reports"
    shot = tmp_path / "failure.png"

    def check(browser: Browser) -> None:
        page = browser.page
        page.goto((out / "dl.html").as_uri())
        failures = page.locator("ul.failures li")
        assert failures.count() == 1
        assert "claimed [1, 4], found [1, 3]" in failures.inner_text()
        line = page.locator("#L111")
        top = "el => el.getBoundingClientRect().top"
        assert line.evaluate(top) > 900  # below the first screen ...
        failures.locator("a").click()
        assert page.url.endswith("dl.html#L111")
        assert 100 < line.evaluate(top) < 450  # ... until the link brings it, with context above
        assert line.get_attribute("data-verdict") == "failed"
        assert line.locator(".chip").inner_text() == "✗ cpu"
        note = page.locator("#L111 + .note.failed")
        assert note.is_visible()
        assert "claimed [1, 4], found [1, 3]" in " ".join(note.inner_text().split())
        page.screenshot(path=str(shot))

    in_browser(check)
    keep(shot)


def test_a_lesson_that_prints_a_script_tag_shows_the_text_and_runs_nothing(
    tmp_path: Path,
) -> None:
    """``tests/samples/report-mini.md`` has ``<script>`` in its prose, code, output and a note."""
    _playwright()
    results = ROOT / "tests" / "samples" / "report-mini.json"
    out = tmp_path / "reports"
    assert harness_cli("report", str(results), "--out", str(out)).returncode == 0
    dialogs: list[str] = []

    def dialog(opened: Any) -> None:
        dialogs.append(opened.message)
        opened.dismiss()

    def check(browser: Browser) -> None:
        page = browser.page
        page.on("dialog", dialog)
        page.goto((out / "report-mini.html").as_uri())
        assert page.locator("script, img, iframe, object, embed").count() == 0
        assert '"<script>alert(1)</script>"' in page.locator("#L25").inner_text()
        output = page.locator("details.stdout").first
        assert not output.locator("pre").is_visible()  # folded under the block
        output.locator("summary").click()
        assert output.locator("pre").inner_text() == "<script>alert(1)</script>\n"
        assert '<script>alert("prose")</script>' in page.locator("main").inner_text()
        assert "<img src=x onerror=alert(2)>" in page.locator("#L24 ~ .note.info").inner_text()

    in_browser(check)
    assert dialogs == []


SCREENSHOTS = Path(os.environ.get("HARNESS_REPORT_SCREENSHOTS") or ROOT / "reports" / "screenshots")
WIDTHS = (1366, 390)
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_the_report_fits_a_laptop_and_a_phone_with_verdicts_in_the_gutter(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Screenshots at 1366 and 390 px of the index, a passing page (``lessons/dl.md``) and a
    failing one (``tests/samples/report-mini.json``), kept in ``SCREENSHOTS`` (default
    ``reports/screenshots/``): no page is wider than the screen, and at 390 px every claim's
    verdict is on screen in the line-number gutter, also when its code is scrolled sideways."""
    out, results = report
    (lesson,) = results["lessons"]
    assert all(c["results"]["cpu"]["verdict"] != "failed" for c in lesson["claims"])  # passing
    assert all(b["results"]["cpu"]["status"] != "failed" for b in lesson["blocks"])
    mini = tmp_path / "mini"
    done = harness_cli(
        "report", str(ROOT / "tests" / "samples" / "report-mini.json"), "--out", str(mini)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {
        "index": out / "index.html",
        "passing": out / "dl.html",
        "failing": mini / "report-mini.html",
        "failing-index": mini / "index.html",
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def check(browser: Browser) -> None:
        page = browser.page
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name, file in pages.items():
                page.goto(file.as_uri())
                assert page.evaluate(FITS), f"{name} at {width} px is wider than the screen"
                shot = SCREENSHOTS / f"{name}-{width}.png"
                page.screenshot(path=str(shot))
                shots.append(shot)
                if name.endswith("index"):
                    continue
                marks = page.locator(".code .line.claim .gutter .mark")
                assert marks.count() == page.locator(".code .line.claim").count() > 0
                for index in range(marks.count()):
                    mark = marks.nth(index)
                    verdict = mark.evaluate("el => el.closest('.line').dataset.verdict")
                    assert mark.inner_text() == SYMBOLS[verdict]
                    assert verdict in (mark.get_attribute("class") or "").split()
                    box = mark.bounding_box()
                    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                claimed = page.locator(
                    ".code .line.claim" + (".failed" if name == "failing" else "")
                )
                claimed.first.evaluate("el => el.scrollIntoView({block: 'center'})")
                shot = SCREENSHOTS / f"{name}-{width}-claims.png"  # the gutter verdicts
                page.screenshot(path=str(shot))
                shots.append(shot)
                if width == 390:  # scrolled sideways, the gutter stays
                    code = page.locator(".code", has=page.locator(".line.claim")).first
                    code.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
                    box = code.locator(".line.claim .mark").first.bounding_box()
                    assert box is not None and 0 <= box["x"] < 100
        failing = page.locator(".stepper")
        page.goto(pages["failing"].as_uri())
        assert failing.count() == 2 and "failure 1 of 2" in failing.first.inner_text()
        failing.first.locator("a[rel=next]").click()
        assert page.url.endswith("#L46")

    in_browser(check)
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, shot
    print(f"report screenshots: {SCREENSHOTS}")
