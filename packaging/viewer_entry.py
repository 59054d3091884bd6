"""Frozen entry point for the desktop bundle (PyInstaller)."""

import sys

from ecgrecon.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
