"""The trainer's way to refuse data or options it cannot use: one line on stderr, exit code 2
(`churnstream train` then reports a user error, not a crash)."""

import sys
from typing import NoReturn


def refuse(message: str) -> NoReturn:
    print(f"training: {message}", file=sys.stderr)
    sys.exit(2)
