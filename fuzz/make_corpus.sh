#!/usr/bin/env bash
# Seeds the model_loader fuzz corpus (fuzz/corpus/model_loader/) with real model files: every
# directory given (default: the small models below) holding config.json + model.safetensors is
# written as one input, u32-LE length of config.json, config.json, model.safetensors.
#
#   fuzz/make_corpus.sh [MODEL_DIR ...]
#
# Without arguments it makes its seeds with the `topics` binary ($TOPICS_BIN, default
# target/debug/topics; `cargo build -p topics`): a fit of 300 CLINC150 docs (min_topic_size 5),
# the same fit merged with a second day, and the imported BERTopic fixture.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$HERE/corpus/model_loader"
mkdir -p "$OUT"

dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
    TOPICS="${TOPICS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/topics}"
    [ -x "$TOPICS" ] || { echo "error: no topics binary at $TOPICS (cargo build -p topics)" >&2; exit 1; }
    CLINC="${TOPICS_DATASETS:-$ROOT/../shared/datasets}/clinc150"
    [ -f "$CLINC/clinc150.npy" ] || { echo "error: CLINC150 not at $CLINC (set TOPICS_DATASETS)" >&2; exit 1; }
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    python3 - "$CLINC" "$TMP" <<'PY'
import json, struct, sys
clinc, tmp = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{clinc}/clinc150.jsonl")][:22500]
# .npy: parse the v1 header by hand (no numpy needed), copy the rows we keep
raw = open(f"{clinc}/clinc150.npy", "rb").read()
hlen = struct.unpack("<H", raw[8:10])[0]
dim = int(raw[10:10 + hlen].decode().split("'shape': (")[1].split(")")[0].split(",")[1])
data = raw[10 + hlen:]
def write(name, idx):
    with open(f"{tmp}/{name}.jsonl", "w") as f:
        for i in idx:
            f.write(json.dumps({"text": rows[i]["text"]}) + "\n")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(idx), dim)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(f"{tmp}/{name}.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for i in idx:
            f.write(data[i * dim * 4:(i + 1) * dim * 4])
write("d1", range(0, 22500, 75))
write("d2", range(1, 22500, 75))
PY
    "$TOPICS" fit --docs "$TMP/d1.jsonl" --embeddings "$TMP/d1.npy" --out "$TMP/m1" \
        --min-topic-size 5 --day 2026-11-01 > /dev/null
    "$TOPICS" fit --docs "$TMP/d2.jsonl" --embeddings "$TMP/d2.npy" --out "$TMP/m2" \
        --min-topic-size 5 --day 2026-11-02 > /dev/null
    "$TOPICS" merge --base "$TMP/m1" --day "$TMP/m2" --out "$TMP/merged" > /dev/null
    "$TOPICS" import --bertopic "$ROOT/engine/tests/fixtures/bertopic_small" --out "$TMP/imported" \
        --day 2025-06-01 > /dev/null
    dirs=("$TMP/m1" "$TMP/m2" "$TMP/merged" "$TMP/imported")
fi
for d in "${dirs[@]}"; do
    name="seed-$(basename "$d")"
    python3 - "$d/config.json" "$d/model.safetensors" "$OUT/$name" <<'PY'
import struct, sys
cfg, ten, out = (open(p, "rb").read() for p in sys.argv[1:3]), None, sys.argv[3]
cfg, ten = list(cfg)
open(out, "wb").write(struct.pack("<I", len(cfg)) + cfg + ten)
PY
    echo "seed: $OUT/$name ($(stat -c %s "$OUT/$name") bytes)"
done
