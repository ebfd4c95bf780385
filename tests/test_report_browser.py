"""The report of ``lessons/dl.md`` in a real browser: headless Chromium driven by Playwright.

Uses Debian's ``chromium`` package (``/usr/bin/chromium``, or ``HARNESS_CHROMIUM``) and the
``playwright`` Python package; Playwright's own browser download is never used. Without them
the test is skipped with the reason, never passed. With ``HARNESS_REPORT_SCREENSHOTS=DIR`` the
screenshots (page top, CNN block, whole page) are also saved in DIR.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.claims import find_claims
from harness.lesson import read_lesson
from harness.report import write_report
from tests.conftest import LESSON, ROOT

CHROMIUM = Path(os.environ.get("HARNESS_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG = b"\x89PNG\r\n\x1a\n"


def _playwright() -> Any:
    """Playwright's ``sync_playwright``, or a skip that says what is missing."""
    try:
        api = importlib.import_module("playwright.sync_api")
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM} (apt-get install chromium, or set HARNESS_CHROMIUM)"
        )
    return api.sync_playwright


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``harness check lessons/dl.md --json``, as CI's ``tox -e lessons`` runs it."""
    _playwright()  # skip before spending the run when no browser can look at it
    out = tmp_path_factory.mktemp("results") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", "lessons/dl.md", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1) and out.exists(), done.stdout + done.stderr
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def report(results: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("reports")
    cwd = Path.cwd()
    os.chdir(ROOT)  # lesson paths in the results are relative to where the check ran
    try:
        write_report([results], out, [_benchmark(results)])
    finally:
        os.chdir(cwd)
    yield out


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
                    "lesson": str(LESSON),
                    "block": block["line"],
                    "device": "cpu",
                    "steps_per_second": 100.0,
                    "samples_per_second": 3000.0,
                    "losses": [2.3 - 0.01 * step for step in range(160)],
                },
            }
        ],
    }


def test_the_report_opens_in_chromium(
    report: Path, results: dict[str, Any], tmp_path: Path
) -> None:
    sync_playwright = _playwright()
    claims = find_claims(read_lesson(LESSON))
    assert len(claims) > 30
    (lesson,) = results["lessons"]
    verdicts = {c["line"]: c["results"]["cpu"]["verdict"] for c in lesson["claims"]}
    failed_requests: list[str] = []
    console_errors: list[str] = []
    requests: list[str] = []
    keep = os.environ.get("HARNESS_REPORT_SCREENSHOTS")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("requestfailed", lambda request: failed_requests.append(request.url))
            page.on("request", lambda request: requests.append(request.url))
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: console_errors.append(str(error)))

            page.goto((report / "index.html").as_uri())
            assert page.title() == "Lesson report · harness"
            link = page.locator('a[href="dl.html"]')
            assert link.inner_text() == "Introduction to Deep Learning"
            link.click()
            page.wait_for_load_state()
            assert page.url == (report / "dl.html").as_uri()
            assert page.title() == "Introduction to Deep Learning · harness report"

            for claim in claims:
                line = page.locator(f"#L{claim.line}")
                assert line.count() == 1, f"line {claim.line} is not on the page"
                verdict = line.get_attribute("data-verdict")
                assert verdict == verdicts[claim.line], f"line {claim.line}: {verdict}"
                assert verdict in line.get_attribute("class").split()
                chip = line.locator(".chip")
                assert chip.inner_text().endswith(" cpu")
                assert chip.is_visible()
            assert page.locator(".code .claim").count() == len(claims)
            assert page.locator("svg polyline.loss").count() == 1
            assert page.locator("script").count() == 0

            top = tmp_path / "top.png"
            page.screenshot(path=str(top))
            cnn_block = page.locator("section.block", has_text="class CNN(nn.Module)")
            page.goto(f"{page.url}#{cnn_block.get_attribute('id')}")  # its top at the top
            cnn = tmp_path / "cnn.png"
            page.screenshot(path=str(cnn))
            whole = tmp_path / "dl.png"
            page.screenshot(path=str(whole), full_page=True)
        finally:
            browser.close()
    for shot in (top, cnn, whole):
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, shot
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in (top, cnn, whole):
            shutil.copy(shot, Path(keep) / f"report-{shot.name}")
    assert failed_requests == []
    assert console_errors == []
    assert requests and all(url.startswith("file://") for url in requests), requests
