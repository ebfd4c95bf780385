"""The project configuration: ``[tool.harness]`` in ``pyproject.toml``, or ``harness.toml``.

A lesson repository says once what its lessons need, instead of in every lesson::

    [tool.harness]
    setup = "import torch"      # run before the lesson's blocks, never shown; no claims
    devices = "cpu"             # or ["cpu", "cuda"]; as --devices
    time-limit = 60             # seconds per block; as --time-limit
    memory-limit = 4000         # MB per worker; as --memory-limit

    [[tool.harness.overrides]]  # for some lessons only; later overrides win
    paths = ["notes/*.md"]      # globs relative to this file's folder
    setup = "import torch\\nimport torch.nn as nn"

``harness.toml`` holds the same keys at its top level (``[[overrides]]``). The file is found
as pytest finds its rootdir: walking up from each lesson's folder (as named, links not
resolved), the first folder holding ``harness.toml``, or a ``pyproject.toml`` with a
``[tool.harness]`` table (``harness.toml`` first when both are there); the walk stops at the
repository root (a folder holding ``.git``) or the file system's root, so a configuration
above the lesson's repository never applies to it.

Precedence: an option given on the command line > a matching override > the file's table >
harness's defaults (devices: those ``HARNESS_DEVICES`` names, else all available). A
configuration that cannot be used is one line, ``PATH:LINE: [tool.harness] KEY: expected ...,
got ...`` (``ConfigError``), and its lessons are unusable input.
"""

from harness.config.errors import ConfigError as ConfigError
from harness.config.read import KEYS as KEYS
from harness.config.read import MAX_SIZE as MAX_SIZE
from harness.config.read import OVERRIDE_KEYS as OVERRIDE_KEYS
from harness.config.read import read_config as read_config
from harness.config.read import shown as shown
from harness.config.settings import NAMES as NAMES
from harness.config.settings import NONE as NONE
from harness.config.settings import Config as Config
from harness.config.settings import Finder as Finder
from harness.config.settings import Override as Override
from harness.config.settings import Settings as Settings
from harness.config.settings import Setup as Setup
from harness.config.settings import Values as Values
from harness.config.settings import choose as choose
from harness.config.settings import default_devices as default_devices
from harness.config.settings import settings_for as settings_for
from harness.config.where import key_lines as key_lines
