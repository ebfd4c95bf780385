"""``python -m harness.cli``: as the ``harness`` command."""

import sys

from harness.cli.main import main

sys.exit(main())
