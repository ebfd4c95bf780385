"""Reading the report's pages in tests: a small HTML parser, the page text between two ids,
the mini lesson's results (``tests/samples/report-mini.json``), a benchmark file, and
``build`` (write a report, return its pages by file name).
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from harness.report import write_report
from tests.paths import SAMPLES

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


def build(tmp_path: Path, *documents: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    out = tmp_path / "report"
    written = write_report(list(documents), out, **kwargs)
    assert written[0] == out / "index.html"
    return {path.name: path.read_text(encoding="utf-8") for path in written}


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
