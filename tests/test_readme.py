"""The README's glossary and layout never drift from the package.

(a) every ``harness.x.y`` dotted name in backticks in the Glossary and Layout sections resolves
(the longest importable module prefix, then attributes); (b) every module under ``harness/``
(but ``__init__.py`` and ``__main__.py``) is named in the Layout section, by its path relative
to ``harness/`` or as a dotted name; (c) every ``harness/...`` path the README cites exists.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PACKAGE = ROOT / "harness"

CODE_SPAN = re.compile(r"`([^`]+)`")
DOTTED = re.compile(r"(?<![\w./-])harness(?:\.[A-Za-z_]\w*)+")
MODULE_PATH = re.compile(r"(?<![\w./-])harness/[\w/]+\.py(?!\w)")
FOLDER_PATH = re.compile(r"(?<![\w./-])harness/(?:[\w-]+/)*")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section, its ``###`` subsections included."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert found, f"README.md has no '## {title}' section"
    return found.group(1)


def dotted_names(text: str) -> list[str]:
    """The ``harness.x.y`` names written in backticks in ``text``, each once, in order."""
    names: dict[str, None] = {}
    for span in CODE_SPAN.findall(text):
        for name in DOTTED.findall(span):
            names[name] = None
    return list(names)


def _attribute(owner: object, name: str) -> object:
    """``owner.name``; for a class, also a field it only annotates (a dataclass field without
    a default is no class attribute)."""
    if hasattr(owner, name):
        return getattr(owner, name)
    if inspect.isclass(owner):
        for cls in owner.__mro__:
            annotations = inspect.get_annotations(cls)
            if name in annotations:
                return annotations[name]
    raise AttributeError(f"{owner!r} has no attribute {name!r}")


def resolve(dotted: str) -> object:
    """The object ``dotted`` names: the longest prefix that imports as a module, then the rest
    as attributes. AttributeError (or the import's own error) when it names nothing."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        module_name = ".".join(parts[:end])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # only "this prefix is no module" means: try a shorter one
            if error.name is not None and module_name.startswith(error.name):
                continue
            raise
        for attribute in parts[end:]:
            found = _attribute(found, attribute)
        return found
    raise AttributeError(f"{dotted}: no module named {parts[0]!r}")


def glossary_and_layout_names() -> list[str]:
    text = readme()
    return dotted_names(section(text, "Glossary") + section(text, "Layout"))


def package_modules() -> list[str]:
    """Every module file under harness/, relative to it (``claims/kinds/shape.py``)."""
    return sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py"}
    )


def named_in(text: str, module: str) -> bool:
    """Whether ``text`` names ``module`` (``run/devices.py``): as ``run/devices.py``,
    ``harness/run/devices.py`` or ``harness.run.devices``."""
    as_path = rf"(?<![\w./-])(?:harness/)?{re.escape(module)}(?!\w)"
    dotted = "harness." + module.removesuffix(".py").replace("/", ".")
    as_dotted = rf"(?<![\w./-]){re.escape(dotted)}(?!\w)"
    return bool(re.search(as_path, text) or re.search(as_dotted, text))


@pytest.mark.parametrize("name", glossary_and_layout_names())
def test_every_dotted_name_in_the_glossary_and_layout_resolves(name: str) -> None:
    resolve(name)


def test_the_glossary_and_layout_cite_dotted_names() -> None:
    names = glossary_and_layout_names()
    assert "harness.claims.Claim" in names
    assert len(names) >= 20, names


def test_a_wrong_dotted_name_does_not_resolve() -> None:
    for wrong in (
        "harness.claims.NoSuchClaim",
        "harness.nosuchpackage.Thing",
        "harness.claims.kinds.Kind.no_such_method",
        "harness.lesson.Fence.no_such_field",
    ):
        with pytest.raises(AttributeError):
            resolve(wrong)
    assert resolve("harness.lesson.Fence.tree") is not None


def test_every_module_is_named_in_the_layout() -> None:
    layout = section(readme(), "Layout")
    modules = package_modules()
    assert "run/devices.py" in modules
    missing = [module for module in modules if not named_in(layout, module)]
    assert not missing, f"modules the README's Layout section does not name: {missing}"


def test_naming_a_module_means_its_whole_path() -> None:
    assert named_in("`harness/lesson/read.py` reads", "lesson/read.py")
    assert named_in("see `lesson/read.py`", "lesson/read.py")
    assert named_in("`harness.lesson.read.read_lesson`", "lesson/read.py")
    assert not named_in("`lesson/read.py`", "config/read.py")
    assert not named_in("`read.py`", "config/read.py")
    assert not named_in("`harness/plugin_xdist.py`", "plugin.py")
    assert not named_in("`harness.lesson.read_lesson`", "lesson/read.py")


def test_every_harness_path_in_the_readme_exists() -> None:
    text = readme()
    paths = set(MODULE_PATH.findall(text)) | set(FOLDER_PATH.findall(text))
    assert "harness/run/devices.py" in paths
    missing = sorted(path for path in paths if not (ROOT / path).exists())
    assert not missing, f"paths the README cites that do not exist: {missing}"
