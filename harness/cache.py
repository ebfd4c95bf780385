"""Block results kept between runs: ``harness check`` on an unchanged lesson runs nothing.

The folder is ``.harness-cache/`` in the current directory, or ``$HARNESS_CACHE_DIR``. One
file per lesson, device and mode holds an entry per block: the ``BlockResult`` the worker
reported for it and the claim checks made while it ran (its contribution: a claim inside a
function counts where the function is called). An entry is found by the block's key, a
sha256 over what its outcome depends on: the fence (its code, lines and directives), the
earlier statements it needs (``depends.dependency_map``, with their positions), the claims in
the block and in those statements, the directives of the blocks they come from, the device,
the time and memory limits, and the environment (torch's version read from its metadata,
never by importing it; Python; harness's version and a hash of its source files).

A file that cannot be read or makes no sense is ignored: its blocks run again.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import harness
from harness.claims import Claim
from harness.depends import Dependencies
from harness.lesson import Lesson
from harness.results import JSON, BlockResult, ClaimResult

CACHE_DIR = ".harness-cache"
ENVIRONMENT_VARIABLE = "HARNESS_CACHE_DIR"
SCHEMA = 1
DEVICE_VARIABLES = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")


@dataclass
class Entry:
    """One block on one device, as a run left it: its result and its claim contribution."""

    line: int
    result: BlockResult
    claims: dict[int, ClaimResult]

    def to_json(self) -> JSON:
        claims = {str(line): asdict(tally) for line, tally in self.claims.items()}
        return {"line": self.line, "result": asdict(self.result), "claims": claims}

    @staticmethod
    def from_json(data: JSON) -> Entry:
        result = BlockResult.from_json(data["result"])
        result.cached = True
        claims = {int(line): ClaimResult(**tally) for line, tally in data["claims"].items()}
        return Entry(int(data["line"]), result, claims)


def _digest(parts: Iterable[object]) -> str:
    return hashlib.sha256(json.dumps(list(parts), default=str).encode()).hexdigest()


def _torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        return "not installed"


@functools.cache
def source_hash() -> str:
    """A hash of harness's own files: editing harness invalidates every entry."""
    package = Path(harness.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def environment_key() -> str:
    return _digest(
        [
            SCHEMA,
            _torch_version(),
            harness.__version__,
            source_hash(),
            sys.version,
            sys.executable,
            platform.machine(),
        ]
    )


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first, node.end_lineno or node.lineno


def block_keys(
    lesson: Lesson,
    claims: Sequence[Claim],
    deps: dict[int, Dependencies],
    device: str,
    mode: str,
    time_limit: float,
    memory_limit: int,
) -> dict[int, str]:
    """The key of every Python block of ``lesson`` on ``device``, by fence line."""
    fences = {fence.line: fence for fence in lesson.python_fences}
    keys: dict[int, str] = {}
    for line, fence in fences.items():
        statements = deps[line].statements if line in deps else ()
        spans = [_span(s.node) for s in statements]

        def needed(claim: Claim, spans: list[tuple[int, int]] = spans, line: int = line) -> bool:
            lines = [claim.line, *(place.line for place in claim.places)]
            return claim.block == line or any(a <= n <= b for n in lines for a, b in spans)

        sources = sorted({s.block for s in statements})
        keys[line] = _digest(
            [
                environment_key(),
                lesson.path,
                device,
                mode,
                fence.time_limit or time_limit,
                memory_limit,
                repr(fence),
                [(s.block, ast.dump(s.node, include_attributes=True)) for s in statements],
                [repr(claim) for claim in claims if needed(claim)],
                [repr(fences[b].directives) for b in sources if b in fences],
            ]
        )
    return keys


def _folder() -> Path:
    return Path(os.environ.get(ENVIRONMENT_VARIABLE) or CACHE_DIR)


class Cache:
    """The cache folder. ``read=False`` (``--no-cache``): every block runs; results are stored."""

    def __init__(self, folder: Path | None = None, read: bool = True) -> None:
        self.folder = folder if folder is not None else _folder()
        self.read = read
        self.warned = False

    # blocks --------------------------------------------------------------------------------
    def _lesson_file(self, path: str, device: str, mode: str) -> Path:
        return self.folder / f"blocks-{_digest([path, device, mode])[:32]}.json"

    def entries(self, path: str, device: str, mode: str) -> dict[str, Entry]:
        """Stored entries by key; none when reading is off or the file is unusable."""
        if not self.read:
            return {}
        data = self._load(self._lesson_file(path, device, mode))
        found: dict[str, Entry] = {}
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return found
        blocks = data.get("blocks")
        for key, entry in blocks.items() if isinstance(blocks, dict) else ():
            try:
                found[key] = Entry.from_json(entry)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # one damaged entry: that block runs again
        return found

    def store(self, path: str, device: str, mode: str, entries: dict[str, Entry]) -> None:
        """Replace the lesson's entries on ``device``: what the last run left, nothing older."""
        blocks = {key: entry.to_json() for key, entry in entries.items()}
        document = {"schema": SCHEMA, "path": path, "device": device, "mode": mode}
        self._save(self._lesson_file(path, device, mode), {**document, "blocks": blocks})

    # devices -------------------------------------------------------------------------------
    def _devices_file(self) -> Path:
        environment = [os.environ.get(name) for name in DEVICE_VARIABLES]
        parts = [SCHEMA, _torch_version(), sys.executable, platform.node(), *environment]
        return self.folder / f"devices-{_digest(parts)[:32]}.json"

    def devices(self) -> list[str] | None:
        """What ``--devices all`` found here last time (same torch, Python and visible
        devices), so that a run answered from the cache does not import torch."""
        if not self.read:
            return None
        data = self._load(self._devices_file())
        if isinstance(data, list) and data and all(isinstance(d, str) for d in data):
            return data
        return None

    def store_devices(self, found: Sequence[str]) -> None:
        self._save(self._devices_file(), list(found))

    # files ---------------------------------------------------------------------------------
    @staticmethod
    def _load(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, unreadable, not UTF-8, not JSON
            return None

    def _save(self, path: Path, data: object) -> None:
        """Write atomically (a reader sees the old file or the new one), never fail the run."""
        temporary: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# written by harness: the cache is never committed\n*\n")
            with tempfile.NamedTemporaryFile(
                "w", dir=self.folder, prefix=".tmp-", suffix=".json", delete=False
            ) as file:
                temporary = Path(file.name)
                json.dump(data, file)
            umask = os.umask(0)
            os.umask(umask)
            temporary.chmod(0o666 & ~umask)  # as a plain open() would have made it
            temporary.replace(path)
        except OSError as error:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            if not self.warned:
                self.warned = True
                reason = error.strerror or str(error)
                print(f"{self.folder}: cannot write the cache ({reason})", file=sys.stderr)
