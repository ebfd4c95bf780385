"""Front matter (YAML between ``---`` lines at the top) and the lesson id it or the file name gives.

Bounded reading: a few kilobytes of plain YAML, no aliases, little nesting.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import yaml

from harness.lesson.errors import LessonError
from harness.lesson.markdown import source_lines

MAX_ID = 100
MAX_FRONT_MATTER = 64 * 1024  # characters
MAX_NESTING = 50  # [ and { in front matter
# a lesson id names a folder (snippets/<id>/) and a page (<id>.html): one plain path component
SAFE_ID = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_ID - 1}}}")


def id_from_file_name(stem: str) -> str | None:
    """A safe lesson id made from a file name: ``intro (copy)`` -> ``intro-copy``,
    ``leçon`` -> ``lecon``, ``日本`` -> ``lesson-`` and a hash of the name; None when the name
    holds no letter or digit (``..``)."""
    if SAFE_ID.fullmatch(stem):
        return stem
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    made = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text)
    made = re.sub(r"-{2,}", "-", made).strip("-.")[:MAX_ID].rstrip("-.")
    if SAFE_ID.fullmatch(made):
        return made
    if any(c.isalnum() for c in stem):  # a name in another script: ``日本`` -> lesson-1b2c3d4e
        return "lesson-" + hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return None


def front_matter_line(source: str, key: str) -> int:
    """The lesson line of ``key:`` in the front matter (which starts at line 1), else 1."""
    for number, text in enumerate(source_lines(source)[1:], start=2):
        if text.strip() in ("---", "..."):
            break
        if re.match(rf"{re.escape(key)}\s*:", text):
            return number
    return 1


class NotYaml(LessonError):
    """Front matter that YAML cannot parse: a warning, the lesson is still checked."""


def front_matter(text: str, path: str) -> dict[str, object]:
    """Front matter text as a mapping; not YAML or not a mapping raises LessonError.

    Bounded: at most ``MAX_FRONT_MATTER`` characters, ``MAX_NESTING`` levels of ``[``/``{``
    and no aliases (``*name``), so neither an alias bomb nor a deeply nested document can take
    the memory, the stack or minutes of the process (main process and workers alike).
    """
    if len(text) > MAX_FRONT_MATTER:
        raise LessonError(
            path,
            f"front matter is {len(text):,} characters long: at most {MAX_FRONT_MATTER:,} are "
            "read (an id and a title need a few)",
            1,
        )
    depth = deepest = 0
    for char in text:  # PyYAML's scanner is quadratic in the nesting of [ and {
        depth += (char in "[{") - (char in "]}")
        deepest = max(depth, deepest)
    if deepest > MAX_NESTING:
        raise LessonError(
            path, f"front matter nests {deepest} levels deep: at most {MAX_NESTING} are read", 1
        )
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line = mark.line + 2 if mark is not None else 1
                raise LessonError(
                    path, "front matter uses a YAML alias (*name): write the value out", line
                )
        data = yaml.safe_load(text)
    except RecursionError:
        raise LessonError(path, "front matter nests too deeply to be read", 1) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise NotYaml(path, f"front matter is not valid YAML: {problem}", line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LessonError(path, "front matter is not a mapping of keys to values", 1)
    return {str(k): v for k, v in data.items()}


def lesson_id(meta: dict[str, object], path: str, source: str) -> str:
    """The lesson's id: front matter's ``id:``, else one made from the file name."""
    stem = Path(path).stem
    given = meta.get("id")
    if given is None or given == "":
        made = id_from_file_name(stem)
        if made is None:
            raise LessonError(
                path,
                f"the file name {Path(path).name!r} gives no usable lesson id (letters, digits, "
                "'_', '-' or '.', not starting with '.'): rename it or give `id:` in front matter",
                1,
            )
        return made
    text = str(given)
    if not isinstance(given, str | int) or not SAFE_ID.fullmatch(text):
        raise LessonError(
            path,
            f"front matter id {text[:80]!r} is not a usable file name: expected "
            f"letters, digits, '_', '-' or '.', starting with a letter, digit or '_', at "
            f"most {MAX_ID} characters",
            front_matter_line(source, "id"),
        )
    return text
