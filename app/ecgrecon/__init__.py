"""ecgrecon: rebuild the standard 12-lead ECG from three leads."""

__version__ = "0.1.0"
