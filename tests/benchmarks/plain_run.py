"""The baseline: a lesson's Python blocks run top to bottom in one namespace, nothing checked.

``python tests/benchmarks/plain_run.py lessons/dl.md`` is what a reader pasting every block
into one interpreter does; benchmarks compare the harness against it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile

from markdown_it import MarkdownIt


def main(path: str) -> None:
    with open(path, encoding="utf-8") as file:
        tokens = MarkdownIt("commonmark").parse(file.read())
    namespace: dict[str, object] = {"__name__": "__main__"}
    with tempfile.TemporaryDirectory() as workdir, contextlib.redirect_stdout(io.StringIO()):
        os.chdir(workdir)
        for token in tokens:
            if token.type == "fence" and token.info.split()[:1] == ["python"]:
                exec(compile(token.content, path, "exec"), namespace)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
