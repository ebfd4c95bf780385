"""What a block needs that this machine lacks (a package, an accelerator, the network), told
by the exception it raised: the block's status is then ``needs``, not failed."""

from __future__ import annotations

import importlib.util

from harness.run.devices import DEVICES, has

# What a block needs that this machine lacks, told by the exception it raised: messages of a
# download or a connection that could not be made (a device's own are in ``devices.DEVICES``).
_NETWORK_TYPES = frozenset(
    {
        "URLError",
        "ConnectionError",
        "gaierror",
        "herror",
        "NewConnectionError",
        "MaxRetryError",
        "NameResolutionError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "ProxyError",
    }
)
_NETWORK_MESSAGES = (
    "urlopen error",
    "no internet connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "nodename nor servname provided",
    "Failed to establish a new connection",
    "couldn't connect to",
    "cannot connect to",
)
_PACKAGE_MESSAGES = {"Numpy is not available": "numpy"}


def _chain(error: BaseException) -> list[BaseException]:
    """The error, its cause and context, theirs, and so on (each once, at most 20)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [error]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if any(item is known for known in seen):
            continue
        seen.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return seen


def _missing(name: str | None) -> str | None:
    """The top-level package of a module that could not be found, if it is not installed."""
    top = (name or "").split(".")[0]
    if not top:
        return None
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    return top if found is None else None


def requirement(error: BaseException) -> str:
    """What the block needs that this machine lacks, '' when the error is the lesson's own:
    ``package vit_pytorch`` (a module that is not installed), ``cuda`` or ``mps`` (a call
    that needs the accelerator, on a machine or build without it), ``network`` (a download,
    a hub model: a connection that could not be made). An HTTP error answer (404) is not: the
    network was there."""
    chain = _chain(error)
    for item in chain:
        if isinstance(item, ModuleNotFoundError):
            package = _missing(item.name)
            if package is not None:
                return f"package {package}"
    texts = [f"{type(item).__name__}: {item}" for item in chain]
    for text in texts:
        for message, package in _PACKAGE_MESSAGES.items():
            if message in text and _missing(package) is not None:
                return f"package {package}"
    for device in DEVICES:
        if any(m in text for m in device.lacks for text in texts) and not has(device.name):
            return device.name
    for item in chain:
        names = {cls.__name__ for cls in type(item).__mro__}
        if "HTTPError" in names:
            return ""
        if names & _NETWORK_TYPES and "BrokenPipeError" not in names:  # a pipe is local
            return "network"
    if any(m in text for m in _NETWORK_MESSAGES for text in texts):
        return "network"
    return ""
