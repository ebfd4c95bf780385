"""The exit codes of ``harness``.

0 everything passed, 1 a block or claim failed, 2 unusable input or arguments; 130 (SIGINT,
Ctrl-C) or 143 (SIGTERM): interrupted, what finished is reported and written.
"""

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
