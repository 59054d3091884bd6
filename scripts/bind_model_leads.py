"""Write each card's lead names into its ONNX file and update the card's SHA-256 (models exported before the
binding existed). Usage: python scripts/bind_model_leads.py models [models/bspm ...]"""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from ecgrecon.onnxmeta import bind_leads  # noqa: E402


def main(folders: list[str]) -> int:
    n = 0
    for folder in folders:
        for cp in sorted(Path(folder).glob("*.json")):
            raw = json.loads(cp.read_text())
            if not isinstance(raw, dict) or "architecture" not in raw or raw["architecture"] == "ensemble":
                continue
            onnx_path = cp.parent / raw["onnx"]["file"]
            bind_leads(onnx_path, raw["input_leads"], raw["output_leads"])
            raw["onnx"]["sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
            cp.write_text(json.dumps(raw, indent=1) + "\n")
            n += 1
    print(f"bound {n} models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["models", "models/bspm"]))
