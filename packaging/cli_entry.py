"""Frozen entry point for the command line inside the desktop bundle."""

import sys

from ecgrecon.cli import main

if __name__ == "__main__":
    sys.exit(main())
