"""``ecgrecon models``: the models found, validated against their cards."""

from __future__ import annotations

import argparse
import json

from ..modelcard import ARCH_LABEL, ModelZoo


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the reconstruction models (bundled and user folders)")
    p.add_argument("--inputs", help="only models taking these three leads, e.g. I,II,V2")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    zoo = ModelZoo.discover()  # validates every card against its file
    cards = zoo.for_inputs(args.inputs.split(",")) if args.inputs else zoo.cards
    if args.json:
        print(json.dumps({
            "models": [{"id": c.id, "version": c.version, "configuration": c.configuration,
                        "architecture": c.architecture, "input_leads": list(c.input_leads),
                        "output_leads": list(c.output_leads), "fs": c.fs, "members": list(c.members),
                        "test_reconstructed_median_r": c.test_median_r, "card": str(c.card_path)} for c in cards],
            "refused": zoo.problems}, indent=2))
        return 0
    member_of = {m: c.id for c in zoo.cards for m in c.members}
    defaults = {zoo.default_for(cfg).id for cfg in zoo.configurations()}
    print(f"{'model':<24} {'version':<8} {'architecture':<26} {'inputs':<16} {'test R':<7} note")
    for c in cards:
        r = c.test_median_r
        note = "default" if c.id in defaults else f"member of {member_of[c.id]}" if c.id in member_of else ""
        print(f"{c.id:<24} {c.version:<8} {ARCH_LABEL[c.architecture]:<26} {','.join(c.input_leads):<16} "
              f"{'-' if r is None else f'{r:.3f}':<7} {note}")
    print("test R: median R of the reconstructed leads on the held-out test subjects (models/REPORT.md)")
    print(f"{len(cards)} models")
    for p in zoo.problems:
        print(f"refused: {p}")
    return 0
