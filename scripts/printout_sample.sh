#!/bin/sh
# Regenerate docs/printout_sample.png: page 1 of `ecgrecon print` on the LUDB sample at 100 dpi.
# Uses the bundled I,II,V2 model (models/); set ECGRECON_MODEL_PATH for a development model.
# Needs pdftoppm (poppler-utils).
set -e
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${PYTHON:-.venv/bin/python} -m ecgrecon print resources/samples/ludb_3.hea --inputs I,II,V2 ${ARCH:+--arch "$ARCH"} \
    -o "$tmp/sample.pdf"
pdftoppm -r 100 -png -f 1 -l 1 -singlefile "$tmp/sample.pdf" docs/printout_sample
ls -l docs/printout_sample.png
