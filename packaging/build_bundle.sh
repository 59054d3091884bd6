#!/usr/bin/env bash
# Build the one-folder desktop bundle and archive it: dist/ecgrecon/ and dist/ecgrecon-<version>-linux-<arch>.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m pip install -q "pyinstaller>=6.10"
VERSION=$($PY -c "import ecgrecon; print(ecgrecon.__version__)")
$PY -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/ecgrecon.spec
if find dist/ecgrecon -ipath '*torch*' | grep -q .; then  # the training stack must never ship
  echo "error: torch ended up in dist/ecgrecon (see excludes in packaging/ecgrecon.spec)" >&2; exit 1
fi
cp packaging/org.ecgrecon.Viewer.desktop packaging/org.ecgrecon.Viewer.metainfo.xml packaging/org.ecgrecon.mime.xml dist/ecgrecon/
cp resources/icons/ecgrecon.png dist/ecgrecon/ecgrecon.png
ARCHIVE="dist/ecgrecon-${VERSION}-linux-$(uname -m).tar.gz"
tar -C dist -czf "$ARCHIVE" ecgrecon
echo "bundle: dist/ecgrecon ($(du -sh dist/ecgrecon | cut -f1)), archive: $ARCHIVE ($(du -sh "$ARCHIVE" | cut -f1))"
