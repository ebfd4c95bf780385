"""Block results kept between runs: ``harness check`` on an unchanged lesson runs nothing.

The folder is ``.harness-cache/`` in the current directory, or ``$HARNESS_CACHE_DIR``. One
file per lesson, device and mode holds an entry per block: the ``BlockResult`` the worker
reported for it and the claim checks made while it ran (its contribution: a claim inside a
function counts where the function is called). An entry is found by the block's key, a
sha256 over what its outcome depends on (``block_keys``):

- reader order: the block's fence (code, lines, directives, so every claim in it) and the
  claims checked in it; of every fence before it, what reaches a later block: its code
  without comments (with them when the lesson reads source text: ``inspect``, ``jit``), its
  directives, time limit and doctest examples, and the claims checked after it (inside its
  functions, or leaving a hook on what a line built); the device, the mode, the limits. A
  claim is an observation (a probe never changes what the lesson computes), so an edited
  claim misses only its own block's entry (and, inside a function, the later ones);
- isolated: the block's fence, the earlier statements its snippet holds, the fences they come
  from (their claims and directives), the device, the mode, the limits;
- always: what the lesson reads outside its text (``harness.run.outside``: the environment
  variables it names and those torch reads, the local modules it imports, the versions of the
  packages it imports) and harness's environment (torch's version read from its metadata,
  never by importing it; Python; harness's version and a hash of its source files).

In reader order the runner runs the lesson from its first block to the last block whose key
is missing, and answers the blocks after it from the cache: each of their keys says that
nothing they depend on changed, so the answer is the one a whole reader-order run gives.

A file that cannot be read or makes no sense is ignored, with one warning line: its blocks
run again.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import harness
from harness.claims import Claim, kinds
from harness.lesson import Fence, Lesson
from harness.results import JSON, BlockResult, ClaimResult, Status, Verdict
from harness.run.outside import world_key
from harness.static.depends import Dependencies

CACHE_DIR = ".harness-cache"
ENVIRONMENT_VARIABLE = "HARNESS_CACHE_DIR"
# 2: reader-order keys cover every earlier fence and what the lesson reads outside;
# 3: a training loop's block result holds its losses; 4: reader-order keys see earlier blocks
# without their comments
SCHEMA = 4
# code that reads a lesson's source text, comments included: TorchScript's type comments,
# inspect.getsource, tracebacks and linecache
_SOURCE_READERS = re.compile(r"\b(?:jit|inspect|getsource|getcomments|linecache|traceback)\b")
DEVICE_VARIABLES = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")


@dataclass
class Entry:
    """One block on one device, as a run left it: its result and its claim contribution."""

    line: int
    result: BlockResult
    claims: dict[int, ClaimResult]

    @property
    def final(self) -> bool:
        """Whether a run would give it again: not when it needed the network (which may be
        back), nor when it ran resumed after a time limit (not reader order)."""
        return self.result.need != "network" and self.result.resumed_after is None

    def to_json(self) -> JSON:
        claims = {str(line): asdict(tally) for line, tally in self.claims.items()}
        return {"line": self.line, "result": asdict(self.result), "claims": claims}

    @staticmethod
    def from_json(data: JSON) -> Entry:
        """The entry, or ValueError/TypeError/KeyError/AttributeError when it makes no sense."""
        result = BlockResult.from_json(data["result"])
        result.cached = True
        claims = {int(line): ClaimResult(**tally) for line, tally in data["claims"].items()}
        entry = Entry(int(data["line"]), result, claims)
        _validate(entry)
        return entry


_STATUSES = tuple(Status)
_VERDICTS = tuple(Verdict)


def _validate(entry: Entry) -> None:
    """Every field of the expected type: a damaged entry must not reach the results."""
    block = entry.result
    texts = (block.status, block.stdout, block.reason)
    if block.status not in _STATUSES or not all(isinstance(t, str) for t in texts):
        raise ValueError("block status or text")
    if not isinstance(block.seconds, int | float) or isinstance(block.seconds, bool):
        raise ValueError("seconds")
    census_ok = isinstance(block.census, dict) and all(
        isinstance(k, str) and isinstance(v, int | float) for k, v in block.census.items()
    )
    flags_ok = isinstance(block.flags, list) and all(isinstance(f, str) for f in block.flags)
    moved_ok = block.moved_at is None or type(block.moved_at) is int
    if not (census_ok and flags_ok and moved_ok):
        raise ValueError("census, flags or moved_at")
    losses = block.losses
    if not isinstance(losses, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in losses
    ):
        raise ValueError("losses")
    if not isinstance(block.need, str) or not (
        block.resumed_after is None or type(block.resumed_after) is int
    ):
        raise ValueError("need or resumed_after")
    error = block.error
    if error is not None and not (
        isinstance(error.type, str)
        and isinstance(error.message, str)
        and isinstance(error.traceback, str)
        and (error.line is None or type(error.line) is int)
    ):
        raise ValueError("error")
    for claim in entry.claims.values():
        fields = (claim.expected, claim.actual, claim.message)
        if claim.verdict not in _VERDICTS or not all(isinstance(f, str) for f in fields):
            raise ValueError("claim verdict or text")
        if type(claim.checks) is not int or claim.checks < 0:
            raise ValueError("claim checks")


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


def block_keys(
    lesson: Lesson,
    claims: Sequence[Claim],
    deps: dict[int, Dependencies],
    device: str,
    mode: str,
    time_limit: float,
    memory_limit: int,
    setup: object = None,
) -> dict[int, str] | None:
    """The key of every Python block of ``lesson`` on ``device``, by fence line; None when
    the lesson cannot be keyed (it reads the whole environment: ``outside.world_key``).

    Reader order: a block's outcome depends on every block before it (a global reassigned, an
    alias mutated in place, ``setattr``, ``exec``: state no static map sees whole), so its key
    covers its own fence and every earlier one. Isolated: a block runs from its snippet, so its
    key covers its fence and the earlier statements its snippet holds. ``setup``: the project
    configuration's setup code and where it is written (``harness.config``), in every key.
    """
    world = world_key(lesson)
    if world is None:
        return None
    common = [environment_key(), world, lesson.path, device, mode, memory_limit]
    if setup is not None:  # the project configuration's setup code (harness.config), as sent
        common.append(setup)
    if mode == "reader":
        return _prefix_keys(lesson, claims, common, time_limit)
    fences = {fence.line: fence for fence in lesson.python_fences}
    by_block: dict[int, list[Claim]] = {}
    for claim in claims:
        by_block.setdefault(claim.block, []).append(claim)
    keys: dict[int, str] = {}
    for line, fence in fences.items():
        statements = deps[line].statements if line in deps else ()
        sources = sorted({s.block for s in statements} | {line})
        spans = [_span(s.node) for s in statements]
        keys[line] = _digest(
            [
                *common,
                fence.time_limit or time_limit,
                repr(fence),
                [repr(fences[b].directives) for b in sources if b in fences],
                [(s.block, ast.dump(s.node, include_attributes=True)) for s in statements],
                [
                    repr(claim)
                    for b in sources
                    for claim in by_block.get(b, ())
                    if b == line or _within(claim, spans)
                ],
            ]
        )
    return keys


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first, node.end_lineno or node.lineno


def _within(claim: Claim, spans: Sequence[tuple[int, int]]) -> bool:
    """The claim sits in one of a snippet's statements (or is checked where one of them is)."""
    lines = [claim.line, *(place.line for place in claim.places)]
    return any(a <= n <= b for n in lines for a, b in spans)


def _prefix_keys(
    lesson: Lesson, claims: Sequence[Claim], common: list[object], time_limit: float
) -> dict[int, str]:
    """Each block's key over its own fence and claims, and over what every earlier fence
    passes on to later blocks (``_passed_on``): linear in the lesson's size."""
    fences = lesson.python_fences
    checked_in: dict[int, list[str]] = {fence.line: [] for fence in fences}
    for claim in claims:
        lines = {claim.block, *(_block_of(fences, place.line) for place in claim.places)}
        for line in sorted(line for line in lines if line in checked_in):
            checked_in[line].append(repr(claim))
    reads_source = any(_SOURCE_READERS.search(fence.code) for fence in fences)
    running = hashlib.sha256(json.dumps(common, default=str).encode())
    keys: dict[int, str] = {}
    for fence in fences:
        limit = fence.time_limit or time_limit
        own = running.copy()
        own.update(repr((fence, limit, checked_in[fence.line])).encode("utf-8", "replace"))
        keys[fence.line] = own.hexdigest()
        passed = _passed_on(fence, claims, limit, reads_source)
        running.update(passed.encode("utf-8", "replace"))
    return keys


def _block_of(fences: Sequence[Fence], line: int) -> int | None:
    return next((f.line for f in fences if f.line <= line <= f.end_line), None)


def _passed_on(fence: Fence, claims: Sequence[Claim], limit: float, reads_source: bool) -> str:
    """What a block passes on to the blocks after it: its code without comments (with them
    when the lesson reads source text: ``_SOURCE_READERS``), directives, time limit, its
    doctest examples (an expected exception lets the session go on), and the claims checked
    after it: inside its functions, lambdas and generators, which run when they are called,
    and those whose kind leaves a check on what the line built (``Kind.checked_later``)."""
    spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in (ast.walk(fence.tree) if fence.tree is not None else ())
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.GeneratorExp)
    ]
    deferred = [
        repr(claim)
        for claim in claims
        if claim.block == fence.line
        and (_within(claim, spans) or kinds.of(claim).checked_later(claim))
    ]
    code = fence.code if reads_source or fence.tree is None else fence.uncommented
    return repr((fence.line, code, fence.directives, limit, fence.examples, deferred))


def _folder() -> Path:
    return Path(os.environ.get(ENVIRONMENT_VARIABLE) or CACHE_DIR)


class Cache:
    """The cache folder. ``read=False`` (``--no-cache``): every block runs; results are stored."""

    def __init__(self, folder: Path | None = None, read: bool = True) -> None:
        self.folder = folder if folder is not None else _folder()
        self.read = read
        self.warned = False
        self.warned_damage = False

    # blocks --------------------------------------------------------------------------------
    def _lesson_file(self, path: str, device: str, mode: str) -> Path:
        return self.folder / f"blocks-{_digest([path, device, mode])[:32]}.json"

    def entries(self, path: str, device: str, mode: str) -> dict[str, Entry]:
        """Stored entries by key; none when reading is off or the file is unusable."""
        if not self.read:
            return {}
        file = self._lesson_file(path, device, mode)
        data = self._load(file)
        found: dict[str, Entry] = {}
        if data is None:
            return found
        if not isinstance(data, dict) or not isinstance(data.get("blocks"), dict):
            self._damaged(file, "not a cache file of harness")
            return found
        if data.get("schema") != SCHEMA:
            return found  # written by another version of harness: not damaged, just stale
        for key, entry in data["blocks"].items():
            try:
                found[key] = Entry.from_json(entry)
            except (KeyError, TypeError, ValueError, AttributeError):
                self._damaged(file, "a damaged entry")  # that block runs again
                continue
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
        file = self._devices_file()
        data = self._load(file)
        if isinstance(data, list) and data and all(isinstance(d, str) for d in data):
            return data
        if data is not None:
            self._damaged(file, "not a list of devices")
        return None

    def store_devices(self, found: Sequence[str]) -> None:
        self._save(self._devices_file(), list(found))

    # files ---------------------------------------------------------------------------------
    def _load(self, path: Path) -> Any:
        """The file's JSON; None when absent. Damaged (unreadable, not UTF-8, not JSON, nested
        too deep for the parser): None, with one warning line for the whole run."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            self._damaged(path, f"unreadable: {error}")
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError, MemoryError):
            self._damaged(path, "not JSON")
            return None

    def _damaged(self, path: Path, why: str) -> None:
        """One line on stderr for the first damaged file of a run; the run goes on."""
        if not self.warned_damage:
            self.warned_damage = True
            print(
                f"{path}: damaged cache file ignored ({why}); its blocks run again", file=sys.stderr
            )

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
