"""What a lesson's outcome depends on outside its own text, as far as its code shows it.

The cache key (``harness.run.cache``) covers the lesson's text; this module adds the rest that
can be read without running anything:

- **environment variables**: the value of every variable the lesson names in a string
  constant (``os.environ["SEED"]``, ``os.getenv("DATA_DIR")``), and of the variables torch
  and its libraries read (``TORCH*``, ``PYTORCH*``, ``CUDA*``, ``OMP_*``, ``MKL*``, ...),
  less where torch keeps compiled kernels (``UNKEYED``);
- **local modules**: the content of every module the lesson imports that lies in a folder on
  the worker's path (the folder harness was started from, ``PYTHONPATH``) or beside the lesson,
  and of the modules those import in turn (a package: every ``.py`` file in it);
- **installed packages**: the version of the distribution of every other module imported.

A lesson that reads the environment as a whole (``dict(os.environ)``, ``os.environ.copy()``,
``os.getenv(name)`` with a computed name, iteration) cannot be keyed: ``world_key`` is None,
and such a lesson always runs. What is not covered: data files a block reads at run time,
the network, subprocesses, and modules imported by a computed name (``importlib``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from harness.lesson import Lesson

_NAME = re.compile(r"[A-Z_][A-Z0-9_]{1,63}")
LIBRARY_PREFIXES = (
    "TORCH",
    "PYTORCH",
    "CUDA",
    "CUBLAS",
    "CUDNN",
    "NCCL",
    "NVIDIA",
    "OMP_",
    "MKL",
    "KMP_",
    "HIP_",
    "ROCR_",
    "HSA_",
    "ZE_",
    "SYCL",
    "ONEAPI",
    "PYTHON",
    "LD_",
    "OPENBLAS_",
    "GOTO",
    "VECLIB",
    "NUMEXPR",
    "MALLOC_",
    "GLIBC_TUNABLES",
)
# Where torch keeps what it compiled: results never depend on it, and torch sets it itself
# (an optimizer's first step sets TORCHINDUCTOR_CACHE_DIR in its process), so a process that
# ran torch (pytest with the plugin, a user's tests before the lessons) keyed every block anew.
UNKEYED = ("TORCHINDUCTOR_CACHE_DIR",)
_MODULE_LIMIT = 200  # local modules followed per lesson, so a cycle or a huge tree ends


def world_key(lesson: Lesson) -> str | None:
    """A digest of what ``lesson`` reads outside its text; None when it reads the whole
    environment (it cannot be keyed: it always runs)."""
    trees = [tree for fence in lesson.python_fences if (tree := fence.tree) is not None]
    if any(reads_whole_environment(tree) for tree in trees):
        return None
    digest = hashlib.sha256()
    for name, value in sorted(_variables(trees).items()):
        digest.update(f"env {name}={value!r}\0".encode(errors="surrogateescape"))
    folders = _search_folders(lesson)
    for line in _modules(_imported(trees), folders):
        digest.update(line.encode(errors="surrogateescape") + b"\0")
    return digest.hexdigest()


def reads_whole_environment(tree: ast.AST) -> bool:
    """``os.environ`` used other than by a constant name (``["X"]``, ``.get("X")``), or
    ``os.getenv`` / ``os.environ.get`` with a computed name."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name) and _name_of(node) == "environ":
            if not _by_constant(node, parents):
                return True
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in ("getenv", "getenvb")
            and not (node.args and _is_text(node.args[0]))
        ):
            return True
    return False


def _name_of(node: ast.Attribute | ast.Name) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)


def _by_constant(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """``environ["X"]``, ``environ.get("X", ...)``, ``environ.setdefault("X", ...)``,
    ``environ.pop("X")``, ``"X" in environ``, or the import ``from os import environ``."""
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return _is_text(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.attr in ("get", "setdefault", "pop"):
        call = parents.get(parent)
        return isinstance(call, ast.Call) and bool(call.args) and _is_text(call.args[0])
    if isinstance(parent, ast.Compare) and node in parent.comparators:
        return _is_text(parent.left)
    return False


def _variables(trees: Iterable[ast.AST]) -> dict[str, str | None]:
    """The environment variables the lesson may read, with their values here."""
    named = {
        node.value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _NAME.fullmatch(node.value)
    }
    found: dict[str, str | None] = {name: os.environ.get(name) for name in named}
    for name, value in os.environ.items():
        if name.startswith(LIBRARY_PREFIXES) and name not in UNKEYED:
            found[name] = value
    return found


def _imported(trees: Iterable[ast.AST]) -> set[str]:
    """Top-level names of absolute imports."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return names


def _search_folders(lesson: Lesson) -> list[Path]:
    """Where a worker (started in this folder) or a reader beside the lesson finds modules."""
    folders = [Path.cwd(), Path(lesson.path).parent]
    folders += [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    unique: list[Path] = []
    for folder in folders:
        try:
            resolved = folder.resolve()
        except (OSError, RuntimeError):
            continue
        if resolved not in unique:
            unique.append(resolved)
    return unique


def _modules(names: set[str], folders: list[Path]) -> Iterator[str]:
    """One line per imported module: a local file's content hash, or a package's version."""
    queue = sorted(names)
    seen: set[str] = set()
    while queue and len(seen) < _MODULE_LIMIT:
        name = queue.pop(0)
        if name in seen or name in sys.builtin_module_names or name in sys.stdlib_module_names:
            continue
        seen.add(name)
        files = _local_files(name, folders)
        if files:
            for file in files:
                yield f"module {name} {file} {_file_hash(file)}"
                queue += sorted(_imported(_parsed(file)) - seen)
        else:
            yield f"package {name} {_version(name)}"


def _local_files(name: str, folders: list[Path]) -> list[Path]:
    for folder in folders:
        module = folder / f"{name}.py"
        package = folder / name
        try:
            if module.is_file():
                return [module]
            if package.is_dir():
                return sorted(p for p in package.rglob("*.py") if p.is_file())
        except OSError:
            continue
    return []


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable: {error.strerror}"


def _parsed(path: Path) -> list[ast.AST]:
    try:
        return [ast.parse(path.read_bytes())]
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def _version(name: str) -> str:
    """The installed version of the distribution providing module ``name``, read from its
    metadata (never by importing it)."""
    try:
        return metadata.version(name)  # torch, numpy, scipy, matplotlib: the same name
    except (metadata.PackageNotFoundError, ValueError):
        pass
    try:
        if importlib.util.find_spec(name) is None:
            return "not installed"
    except (ImportError, ValueError):
        return "not installed"
    return _distribution_versions().get(name, "found, no version")


@functools.cache
def _distribution_versions() -> dict[str, str]:
    """Top-level module name -> the versions of the distributions providing it."""
    versions: dict[str, str] = {}
    for module, distributions in metadata.packages_distributions().items():
        found = []
        for distribution in distributions:
            try:
                found.append(f"{distribution}=={metadata.version(distribution)}")
            except metadata.PackageNotFoundError:
                found.append(f"{distribution}==?")
        versions[module] = ",".join(sorted(found))
    return versions
