"""``harness``: the command authors and CI run.

Exit codes: 0 everything passed, 1 a block or claim failed, 2 unusable input or arguments;
130 (SIGINT, Ctrl-C) or 143 (SIGTERM): interrupted, what finished is reported and written.

``main`` (the entry point) parses the command line (``parser``, ``arguments``) and runs a
subcommand: ``check`` (lessons found by ``find``, printed by ``terminal``), ``report`` or
``extract``.
"""

from harness.cli.arguments import DEVICES as DEVICES
from harness.cli.arguments import parse_devices as parse_devices
from harness.cli.arguments import parse_memory_limit as parse_memory_limit
from harness.cli.arguments import parse_shard as parse_shard
from harness.cli.arguments import parse_time_limit as parse_time_limit
from harness.cli.exits import EXIT_FAILED as EXIT_FAILED
from harness.cli.exits import EXIT_OK as EXIT_OK
from harness.cli.exits import EXIT_UNUSABLE as EXIT_UNUSABLE
from harness.cli.find import find_lessons as find_lessons
from harness.cli.find import shard as shard
from harness.cli.main import main as main
from harness.cli.parser import _parser as _parser
