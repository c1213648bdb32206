#!/usr/bin/env python
"""Django's command-line utility for the aid portal."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")
    from django.core.management import execute_from_command_line

    from aid_portal.config import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        # One line naming the variable, not a traceback.
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
