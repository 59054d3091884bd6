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
                        "external_reconstructed_median_r": c.external_median_r,
                        "external": _external_brief(c),
                        "ludb_test_reconstructed_median_r": c.test_median_r,
                        "trust_signal": c.trust is not None, "card": str(c.card_path)} for c in cards],
            "refused": zoo.problems}, indent=2))
        return 0
    member_of = {m: c.id for c in zoo.cards for m in c.members}
    defaults = {zoo.default_for(cfg).id for cfg in zoo.configurations()}
    rows = [("model", "version", "architecture", "inputs", "external R", "R<0.8", "RMSE uV", "LUDB-only R",
             "note")]
    for c in cards:
        e = _external_brief(c)
        r = c.test_median_r
        note = "default" if c.id in defaults else f"member of {member_of[c.id]}" if c.id in member_of else ""
        ext = ("-", "-", "-") if e is None else (f"{e['median_r']:.3f}", f"{e['share_r_below_0_8']:.0%}",
                                                 f"{e['median_rmse_uv']:.0f}")
        rows.append((c.id, c.version, ARCH_LABEL[c.architecture], ",".join(c.input_leads), *ext,
                     "-" if r is None else f"{r:.3f}", note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:  # columns sized to their longest entry, so every row lines up
        print("  ".join(v.ljust(w) for v, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    print("external R: median R of the reconstructed leads on databases the model was not trained on "
          "(leave one database out; R<0.8: share of leads below 0.8). LUDB-only R: LUDB test subjects, a "
          "database the model was trained on (models/REPORT.md)")
    print(f"{len(cards)} models")
    for p in zoo.problems:  # an explicit override is in use, not refused: say which
        print(f"{'override' if 'ECGRECON_MODEL_OVERRIDE)' in p else 'refused'}: {p}")
    return 0


def _external_brief(c) -> dict | None:
    e = c.external
    return None if not e else dict(e["pooled"])
