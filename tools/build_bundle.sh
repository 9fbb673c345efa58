#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle (pooldesk.spec) and prove it runs without the source:
# `--version`, then the whole headless demo, both from dist/pooldesk/.
#
#     tools/build_bundle.sh            # uses .venv/bin/python (installs pyinstaller if missing)
#     PYTHON=/path/to/python tools/build_bundle.sh
#
# The demo's broker is the system's Mosquitto (not bundled): install it first
# (`apt-get install mosquitto`).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install -q pyinstaller
fi

"$PYTHON" tools/translations.py >/dev/null   # fresh .qm catalogues go into the bundle

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN pooldesk.spec
echo "built dist/pooldesk in $(( $(date +%s) - start )) s: $(du -sh dist/pooldesk | cut -f1)"

exe=dist/pooldesk/pooldesk
[ -x "$exe.exe" ] && exe="$exe.exe"

# Run from another folder with a clean environment, so nothing can come from the source tree.
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
bundle="$(pwd)/$exe"
(
    cd "$workdir"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$workdir" \
        LANG=C.UTF-8 TMPDIR="$workdir" "$bundle" --version
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$workdir" \
        LANG=C.UTF-8 TMPDIR="$workdir" "$bundle" demo --headless
)
echo "bundle OK: $exe"
