"""The worker protocol: one request, typed events, the same JSON lines on both sides."""

from __future__ import annotations

import json

import pytest

from harness.config import Setup
from harness.results import BlockResult, ClaimResult, ErrorInfo
from harness.run import protocol


def test_a_request_reaches_the_worker_as_it_was_sent() -> None:
    sent = protocol.Request(
        path="l.md",
        source="```python\nx = 1\n```\n",
        device="cpu",
        isolated=True,
        only=frozenset({3, 1}),
        memory_limit=512,
        protect="/project",
        setup=Setup("import torch", "[tool.harness]", "pyproject.toml", 4),
        resume=9,
        timed_out=frozenset({5}),
    )
    text = sent.to_json()
    assert json.loads(text)["only"] == [1, 3]
    assert protocol.Request.from_json(text) == sent
    plain = protocol.Request("l.md", "", "cuda")
    assert protocol.Request.from_json(plain.to_json()) == plain


EVENTS = [
    (protocol.Available(("cpu", "cuda")), {"available": ["cpu", "cuda"]}),
    (protocol.Unavailable("no cuda here"), {"unavailable": "no cuda here"}),
    (protocol.Started(12), {"start": 12}),
    (protocol.Done(), {"done": True}),
]


@pytest.mark.parametrize(("event", "line"), EVENTS)
def test_each_event_is_one_json_line_read_back_as_the_same_event(
    event: protocol.Event, line: dict[str, object]
) -> None:
    assert json.loads(protocol.encode(event)) == line
    assert protocol.decode(protocol.encode(event)) == event
    assert "\n" not in protocol.encode(event)


def test_a_finished_block_carries_its_result_and_its_claim_checks() -> None:
    result = BlockResult("failed", 0.5, "out\n", ErrorInfo("ValueError", "bad", 7, "tb"))
    result.losses = [2.0, 1.5]
    claims = {8: ClaimResult("passed", "[3]", "[3]", "", 2)}
    line = protocol.encode(protocol.Finished(6, result, claims))
    data = json.loads(line)
    assert data["block"] == 6 and data["claims"]["8"]["checks"] == 2
    assert data["result"]["losses"] == [2.0, 1.5]
    event = protocol.decode(line.encode())
    assert event == protocol.Finished(6, result, claims)


@pytest.mark.parametrize(
    "raw",
    [b"not an event", b"[1, 2]", b'{"start": "x"}', b'{"block": 1}', b'{"other": 1}', b"\xff"],
)
def test_a_line_that_is_not_an_event_is_none(raw: bytes) -> None:
    assert protocol.decode(raw) is None
