"""Fence styles and notebook formats: which fences are Python and what of them runs.

Languages (``python``, ``py``, ``pycon``, MyST ``{code-block} python``, d2l ``{.python .input}``),
d2l's ``%%tab`` blocks (only the reader's framework runs), IPython magics and shell escapes
(blanked), MyST option lines (blanked), console sessions (``harness.lesson.console``) and
MkDocs admonitions and content tabs (their bodies read as top-level text).
"""

from __future__ import annotations

import os
import re

from harness.lesson.console import Example, doctest_code, pasted_outputs
from harness.lesson.markdown import source_lines
from harness.lesson.trees import ParseMemo

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "pycon", "ipython3", "ipython"})
DOCTEST_LANGUAGES = frozenset({"pycon"})
IPYTHON_LANGUAGES = frozenset({"ipython3", "ipython"})
_MAGIC = re.compile(r"\s*[%!]")  # %matplotlib inline, %%time, !pip install
# a magic in any Python fence: %load_ext x, %%time, !pip install x (never valid Python there)
_ANY_MAGIC = re.compile(r"[ \t]*(?:%{1,2}[A-Za-z_]\w*|![A-Za-z./~$])")
# d2l: %%tab pytorch, %%tab mxnet, tensorflow (and the older comment form #@tab pytorch)
_TAB = re.compile(r"[ \t]*(?:%%tab\b|#[ \t]*@tab\b)([^\n]*)")
# cell magics whose cell is not Python: the whole block is not run
_NOT_PYTHON_CELL = re.compile(
    r"[ \t]*%%(bash|sh|script|html|javascript|js|latex|markdown|svg|writefile|perl|ruby|"
    r"system|sx)\b"
)
DEFAULT_TAB = "pytorch"
TAB_VARIABLE = "HARNESS_TAB"  # --tab NAME / --harness-tab NAME: read by the workers too
_MYST = re.compile(r"\{(?:code-block|code-cell|code|sourcecode)\}\s*(\S*)")
_MYST_OPTION = re.compile(r"\s*:[\w-]+:.*")


def fence_language(info: str) -> str:
    """The language of an info string, lower case: ``python``, ``py title="x"`` -> first word;
    MyST ``{code-block} python`` -> ``python``; d2l ``{.python .input}`` -> ``python``."""
    info = info.strip()
    myst = _MYST.match(info)
    if myst:
        return myst.group(1).lower()
    if info.startswith("{."):
        return info[2:].split()[0].rstrip("}").lower() if len(info) > 2 else ""
    words = info.split()
    return words[0].lower() if words else ""


def is_console(language: str, code: str) -> bool:
    """A console session: a ``pycon`` fence, or Python whose first line that is neither blank
    nor a ``#`` comment is a ``>>>`` prompt."""
    if language in DOCTEST_LANGUAGES:
        return True
    first = next(
        (line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")),
        "",
    )
    return first.lstrip().startswith(">>>")


def selected_tab() -> str:
    """The framework whose d2l tabs a reader follows: ``HARNESS_TAB`` (``--tab``), else
    pytorch."""
    return os.environ.get(TAB_VARIABLE, "").strip().lower() or DEFAULT_TAB


def tab_names(code: str) -> tuple[str, ...] | None:
    """The frameworks of a d2l block's ``%%tab`` first line (``%%tab mxnet, tensorflow`` ->
    ``("mxnet", "tensorflow")``), or None when the block has no such line."""
    first = next((line for line in code.split("\n") if line.strip()), "")
    found = _TAB.fullmatch(first)
    if found is None:
        return None
    return tuple(n.lower() for n in re.split(r"[\s,]+", found.group(1)) if n) or ("all",)


def not_run(code: str, tab: str) -> tuple[int, str] | None:
    """Why a Python fence is not run for this reader, with the line offset saying so: a d2l
    block tabbed only for other frameworks, d2lbook's own tab machinery, or a cell magic whose
    cell is not Python (``%%bash``, ``%%writefile``)."""
    lines = code.split("\n")
    names = tab_names(code)
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if names is not None and "all" not in names and tab not in names:
        return first, (
            f"%%tab {', '.join(names)}: a block for {' and '.join(names)} readers, not for "
            f"{tab} (--tab NAME checks another framework's tab)"
        )
    for index, text in enumerate(lines):
        if re.match(r"[ \t]*%load_ext[ \t]+d2lbook\.tab\b", text):
            return (
                index,
                "d2lbook's tab machinery (%load_ext d2lbook.tab): the harness picks "
                "the tab itself (--tab NAME)",
            )
    cell = _NOT_PYTHON_CELL.match(lines[first]) if lines else None
    if cell is not None:
        return first, f"an IPython %%{cell.group(1)} cell: its text is not Python to run"
    return None


def _blank_magics(lines: list[str], memo: ParseMemo) -> list[str]:
    """Lines with IPython magics and shell escapes blanked (``%load_ext``, ``%%time``,
    ``!pip``), unless the block is valid Python with them (a ``%`` continuation line)."""
    if not any(_ANY_MAGIC.match(text) for text in lines):
        return lines
    if isinstance(memo.parse("\n".join(lines)), SyntaxError):
        return ["" if _ANY_MAGIC.match(text) else text for text in lines]
    return lines


def runnable_code(
    info: str, language: str, content: str, first_line: int, path: str, memo: ParseMemo
) -> tuple[str, tuple[Example, ...], bool]:
    """What runs, the doctest examples, and whether the block is a console session; the
    parses made on the way are kept in ``memo``."""
    if language not in PYTHON_LANGUAGES:
        return content, (), False
    lines = content.split("\n")
    if _MYST.match(info.strip()):  # option lines at the top: ``:caption: x``, or a YAML header
        if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            lines[: end + 1] = [""] * (end + 1)
        for index, text in enumerate(lines):
            if not _MYST_OPTION.fullmatch(text):
                break
            lines[index] = ""
    if language in IPYTHON_LANGUAGES:  # magics and shell escapes are not Python: never run
        lines = ["" if _MAGIC.match(text) else text for text in lines]
    else:  # d2l's %%tab line, %load_ext, %%time in any Python fence: never run either
        lines = _blank_magics(lines, memo)
    content = "\n".join(lines)
    if is_console(language, content):
        code, examples = doctest_code(content, first_line, path)
        return code, examples, True
    pasted = pasted_outputs(lines, first_line, memo)
    if pasted:  # outputs written in the block: checked as a console session's
        return "\n".join(lines), pasted, True
    return content, (), False


_ADMONITION = re.compile(r"([ \t]*)(?:!!!|\?\?\?\+?|===)[ \t]+\S.*")
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})")


def unwrap_admonitions(source: str) -> str:
    """``source`` with the bodies of MkDocs / Material admonitions and content tabs
    (``!!! note``, ``??? success``, ``=== "Tab"``: a marker line, then a body indented 4
    spaces) moved out by 4 spaces, so their fences are fences at the same lines; the marker
    line becomes blank. Unchanged when there is none; never inside a fence."""
    lines = source_lines(source)
    if not any(_ADMONITION.fullmatch(line) for line in lines):
        return source
    out: list[str] = []
    fence = ""  # the marker of the open fence, if any
    bodies: list[int] = []  # the indents of the markers whose bodies we are in
    for original in lines:
        while bodies and original.strip() and _indent(original) < bodies[-1] + 4:
            bodies.pop()
        text = original[4 * len(bodies) :] if original.strip() else ""
        if fence:
            closing = _FENCE_OPEN.match(text)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not text.strip().strip(fence[0])
            ):
                fence = ""
            out.append(text)
            continue
        opening = _FENCE_OPEN.match(text)
        if opening:
            fence = opening.group(1)
            out.append(text)
            continue
        found = _ADMONITION.fullmatch(text)
        if found:
            bodies.append(_indent(original))
            out.append("")
            continue
        out.append(text)
    return "\n".join(out)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))
