#!/usr/bin/env python
"""Django's command-line utility; fills a local environment unless SELIXES_ENV=production."""

import os
import sys


def main() -> None:
    if os.environ.get("SELIXES_ENV") != "production":
        from infra import devenv

        devenv.prepare()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
