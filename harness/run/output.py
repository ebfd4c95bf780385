"""What a block prints: its own ``sys.stdout`` and ``sys.stderr``, interleaved and bounded.

Each block gets its own streams: a block that closes them fails at its next write, as a
reader's would, and keeps what it printed before.
"""

from __future__ import annotations

import io

from harness.results import STDOUT_LIMIT


class Output:
    """What one block prints, stdout and stderr interleaved, at most STDOUT_LIMIT characters."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.stdout = Stream(self)
        self.stderr = Stream(self)

    @property
    def size(self) -> int:
        return self._size

    def add(self, text: str) -> None:
        room = STDOUT_LIMIT - self._size
        if room > 0:
            self._parts.append(text[:room])
            self._size += min(room, len(text))

    def getvalue(self) -> str:
        return "".join(self._parts)


class Stream(io.TextIOBase):
    """A block's ``sys.stdout`` (or ``sys.stderr``): closing it, as a lesson may, makes its
    later writes fail as a reader's would, and never loses what was printed before."""

    def __init__(self, output: Output) -> None:
        super().__init__()
        self._output = output

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._output.add(text)
        return len(text)

    def tell(self) -> int:
        """Where the block's output stands (doctest outputs are read from a mark on)."""
        return self._output.size

    def getvalue(self) -> str:
        return self._output.getvalue()

    @property
    def buffer(self) -> Bytes:
        """``sys.stdout.buffer``: bytes written there are decoded (undecodable bytes kept as
        lone surrogates, which the results escape)."""
        return Bytes(self)


class Bytes(io.RawIOBase):
    def __init__(self, stream: Stream) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        self._stream.write(chunk.decode("utf-8", "surrogateescape"))
        return len(chunk)
