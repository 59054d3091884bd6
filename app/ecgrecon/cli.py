"""Command line: ``ecgrecon info|convert|reconstruct|evaluate|models|print ...``.

Each subcommand lives in ``ecgrecon.commands.<name>`` with ``add_parser`` and
``run``. User errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .errors import Cancelled, EcgReconError

COMMANDS = ["info", "convert", "models", "reconstruct", "calibrate", "evaluate", "measure", "print", "compare"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage; keep it to one reason line
        self.exit(2, f"ecgrecon: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ecgrecon", description="Rebuild the standard 12-lead ECG from three leads.")
    p.add_argument("--version", action="version", version=f"ecgrecon {__version__}")
    p.add_argument("--model-dir", action="append", default=[], metavar="DIR",
                   help="extra folder of ONNX models with cards (repeatable; also ECGRECON_MODEL_PATH)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"ecgrecon.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"ecgrecon.commands.{name}":
                continue  # command not built yet
            raise
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from .memtune import tune_malloc

    tune_malloc()  # keep block-sized buffers between blocks (see ecgrecon.memtune)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.model_dir:
        from .modelcard import load_zoo

        missing = [d for d in args.model_dir if not os.path.isdir(d)]
        if missing:
            print(f"ecgrecon: error: {missing[0]}: model folder does not exist", file=sys.stderr)
            return 2
        old = os.environ.get("ECGRECON_MODEL_PATH", "")
        os.environ["ECGRECON_MODEL_PATH"] = os.pathsep.join([*args.model_dir, *([old] if old else [])])
        load_zoo(refresh=True)
    try:
        return int(args.func(args) or 0)
    except Cancelled:
        print("ecgrecon: cancelled", file=sys.stderr)
        return 130
    except EcgReconError as e:
        print(f"ecgrecon: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ecgrecon: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `ecgrecon info --json ... | head`: the reader went away; no traceback, and no
        # second error when Python flushes stdout at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141  # 128 + SIGPIPE, as a shell reports it
    except MemoryError:
        print("ecgrecon: error: out of memory; crop the recording or use fewer leads", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
