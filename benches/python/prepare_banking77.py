#!/usr/bin/env python3
"""Write Banking77 as a benchmark dataset in CLINC150's layout (benches/datasets/banking77/).

    python prepare_banking77.py [--src benches/datasets/banking77] --out DIR/banking77.jsonl

Reads the committed copies of PolyAI's `train.csv` and `test.csv` (gzipped, byte-identical to
the source once unzipped; see benches/datasets/banking77/README.md), checks their SHA-256, and
writes one JSONL row per utterance, train rows first, then test rows, each in file order:
`{"i", "text", "label", "split", "oos": false}` -- the fields drift_split.py and the Rust
benchmarks read from clinc150.jsonl. Every row is in scope (Banking77 has no out-of-scope
class). The embeddings (`banking77.npy`) are made from this file by
benches/datasets/prepare.sh with the project's local encoder.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {
    # sha256 of the unzipped files, as in PolyAI-LDN/task-specific-datasets@57ec275 banking_data/
    "train": "b06e26ac675513959a63135f11b94ea7786ed02da65db93a5650d8838cbc664b",
    "test": "d12d6e3bc4c3103966ae786dc435913c0c563dfa328f5a3646d0e62cfeeb474d",
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=HERE.parent / "datasets" / "banking77")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)

    rows = []
    for split, digest in SOURCES.items():
        raw = gzip.decompress((args.src / f"{split}.csv.gz").read_bytes())
        got = hashlib.sha256(raw).hexdigest()
        if got != digest:
            sys.exit(f"error: {split}.csv has sha256 {got}, expected {digest}")
        for rec in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
            text = rec["text"].strip()
            if not text:
                continue
            rows.append({"i": len(rows), "text": text, "label": rec["category"], "split": split, "oos": False})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    print(f"{args.out}: {len(rows)} rows, {len({r['label'] for r in rows})} intents", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
