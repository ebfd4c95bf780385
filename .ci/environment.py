"""The one environment every tox env runs from: ``python .ci/environment.py .tox/harness``.

tox 4 recreates an ``env_dir`` shared by differently named envs (it records the name there
and compares), so ``tox -e lessons`` then ``tox`` installed torch three times. Here tox's
own envs install nothing: each runs its commands from this one environment, which this
script keeps up to date, under a lock (``tox -p`` runs envs side by side):

- the dependencies (``pyproject.toml``'s, the ``test`` and ``lint`` extras, pinned by
  ``.ci/constraints.txt``): installed when the environment is made, and made afresh only
  when one of those two files changed;
- harness itself, built and installed as tox would install it (not editable): again only
  when its sources changed.

pip installs without compiling every module to bytecode (``--no-compile``: half of the
install's time, for torch's thousands of modules), then one process imports what the tests,
checks and lint import (torch, harness, pytest, hypothesis), writing the bytecode of just
those modules, whatever ``PYTHONDONTWRITEBYTECODE`` says.

Nothing changed: nothing is installed, one line says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"


def digest(paths: Iterable[Path]) -> str:
    found = hashlib.sha256()
    for path in sorted(paths):
        found.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return found.hexdigest()


def package_files() -> list[Path]:
    """What the built package is made of: the project's metadata and the harness package."""
    sources = [p for p in (ROOT / "harness").rglob("*") if p.is_file()]
    return [ROOT / "pyproject.toml", ROOT / "README.md", *(p for p in sources if _kept(p))]


def _kept(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")


def pip_install(python: Path, *args: str) -> None:
    """``pip install ARGS PROJECT`` from a clean copy of the package's files, as tox installs
    its sdist: nothing built earlier in the checkout (``build/``) can slip in."""
    env = {**os.environ, "PIP_CONSTRAINT": str(CONSTRAINTS)}
    with tempfile.TemporaryDirectory(prefix="harness-package-") as copy:
        for path in package_files():
            where = Path(copy) / path.relative_to(ROOT)
            where.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, where)
        command = [str(python), "-m", "pip", "install", "--quiet", "--no-compile", *args]
        subprocess.run(command, cwd=copy, env=env, check=True)
    compile_imported(python)


# what the tox envs' processes import: its bytecode written once, at install
IMPORTED = "import torch, harness.run.worker, harness.cli.main, harness.plugin, pytest, hypothesis"


def compile_imported(python: Path) -> None:
    """Write the bytecode of the modules ``IMPORTED`` loads (outside the checkout, so that
    the checkout's own ``harness/`` is not the one imported)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="harness-compile-") as elsewhere:
        subprocess.run([str(python), "-c", IMPORTED], cwd=elsewhere, env=env, check=True)


def main(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    python = target / "bin" / "python"
    stamps = {"deps": target / ".harness-deps", "package": target / ".harness-package"}
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deps = digest([ROOT / "pyproject.toml", CONSTRAINTS])
        package = digest(package_files())
        if not python.exists() or _read(stamps["deps"]) != deps:
            print(f"{target}: installing harness, torch and the test and lint tools", flush=True)
            venv.create(target, clear=True, with_pip=True)
            pip_install(python, ".[test,lint]")
            stamps["deps"].write_text(deps)
        elif _read(stamps["package"]) != package:
            print(f"{target}: reinstalling harness (its sources changed)", flush=True)
            pip_install(python, "--no-deps", "--force-reinstall", ".")
        else:
            print(f"{target}: up to date, nothing installed", flush=True)
        stamps["package"].write_text(package)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
