"""Training side of ecgrecon (torch only; nothing outside this package imports torch).

`python -m ecgrecon.training.zoo --all` trains, exports and writes cards for the
bundled models; `python -m ecgrecon.training.report` regenerates models/REPORT.md.
"""
