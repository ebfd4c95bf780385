"""The worker protocol: the request the runner sends a worker and the events it sends back.

Both sides use these types; the wire form is one JSON object. The request goes to the
worker's stdin; each event is one line on the event descriptor (not stdout, which the lesson
may write to directly), in this order: ``Available`` first; then ``Unavailable`` and nothing
more, or ``Started`` before each block and ``Finished`` after it; ``Done`` after the last block.

- ``{"available": ["cpu", ...]}``: the devices torch finds in the worker.
- ``{"unavailable": REASON}``: the device asked for cannot be used here.
- ``{"start": LINE}``: the block at LINE starts.
- ``{"block": LINE, "result": {...}, "claims": {LINE: {...}}}``: the block's result and the
  claim checks made while it ran (its contribution, folded by the runner).
- ``{"done": true}``: the lesson ran to its end; the runner ends the worker's session after a
  short grace period for the threads and processes the lesson left.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from harness.config import Setup
from harness.results import BlockResult, ClaimResult


@dataclass(frozen=True)
class Request:
    """One lesson on one device, for one worker.

    ``only``: just those blocks (each from its snippet); ``memory_limit``: MB of data memory
    (0: none); ``protect``: the folder lesson code may not write into; ``setup``: the project
    configuration's code; ``resume``, ``timed_out``: after a block's time limit, the block to
    resume from and the blocks that ran too long (see ``execute.run_lesson``); ``until``:
    reader order, the last block to run (the cache answers the blocks after it).
    """

    path: str
    source: str
    device: str
    isolated: bool = False
    only: frozenset[int] | None = None
    memory_limit: int = 0
    protect: str | None = None
    setup: Setup | None = None
    resume: int | None = None
    timed_out: frozenset[int] = field(default_factory=frozenset)
    until: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "path": self.path,
                "source": self.source,
                "device": self.device,
                "isolated": self.isolated,
                "only": None if self.only is None else sorted(self.only),
                "memory_limit": self.memory_limit,
                "protect": self.protect,
                "setup": self.setup.to_json() if self.setup else None,
                "resume": self.resume,
                "timed_out": sorted(self.timed_out),
                "until": self.until,
            }
        )

    @staticmethod
    def from_json(text: str) -> Request:
        data = json.loads(text)
        only = data.get("only")
        return Request(
            path=data["path"],
            source=data["source"],
            device=data["device"],
            isolated=bool(data.get("isolated")),
            only=None if only is None else frozenset(int(line) for line in only),
            memory_limit=int(data.get("memory_limit") or 0),
            protect=data.get("protect") or None,
            setup=Setup.from_json(data.get("setup")),
            resume=data.get("resume"),
            timed_out=frozenset(int(line) for line in data.get("timed_out") or ()),
            until=data.get("until"),
        )


@dataclass(frozen=True)
class Available:
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Unavailable:
    reason: str


@dataclass(frozen=True)
class Started:
    line: int


@dataclass(frozen=True)
class Finished:
    line: int
    result: BlockResult
    claims: dict[int, ClaimResult]


@dataclass(frozen=True)
class Done:
    pass


Event = Available | Unavailable | Started | Finished | Done


def encode(event: Event) -> str:
    """The event's line (without its newline)."""
    data: dict[str, object]
    match event:
        case Available(devices):
            data = {"available": list(devices)}
        case Unavailable(reason):
            data = {"unavailable": reason}
        case Started(line):
            data = {"start": line}
        case Finished(line, result, claims):
            contribution = {str(claim): asdict(tally) for claim, tally in claims.items()}
            data = {"block": line, "result": asdict(result), "claims": contribution}
        case Done():
            data = {"done": True}
    return json.dumps(data)


def decode(raw: bytes | str) -> Event | None:
    """The event on one line, or None when the line is not one (a worker never writes those,
    but lesson code that writes to the descriptor might)."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            return None
        if "available" in data:
            return Available(tuple(str(device) for device in data["available"]))
        if "unavailable" in data:
            return Unavailable(str(data["unavailable"]))
        if "start" in data:
            return Started(int(data["start"]))
        if "block" in data:
            block = BlockResult.from_json(data["result"])
            claims = {int(line): ClaimResult(**tally) for line, tally in data["claims"].items()}
            return Finished(int(data["block"]), block, claims)
        if "done" in data:
            return Done()
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return None
