#!/usr/bin/env python3
"""Make a large synthetic corpus from perturbed copies of the CLINC150 reference embeddings.

    python make_synthetic.py --n 100000 --out-dir DIR [--seed 42] [--sigma 0.02]
        [--docs clinc150.jsonl] [--embeddings clinc150.npy] [--source-n 22500]

Row i of the output is a copy of source row j (drawn uniformly with replacement from the first
--source-n rows, seeded) plus isotropic Gaussian noise of standard deviation --sigma per
dimension, L2-normalised again. The text and gold label of row j are copied, so
/work/shared/tools/score.py can score the result with `score.py A.json DIR/synthetic.jsonl`.
Deterministic for a seed (numpy's PCG64). Writes DIR/synthetic.npy (float32 [n, d]) and
DIR/synthetic.jsonl ({"i", "text", "label", "source"} per line).

With d = 384 and sigma = 0.02 the noise has norm ~0.39, i.e. a copy keeps a cosine of ~0.93 to its
source: near-duplicates that still form the same 150 intents.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="number of synthetic docs")
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sigma", type=float, default=0.02, help="noise std per dimension")
    ap.add_argument("--docs", type=Path, default=Path("/work/shared/datasets/clinc150/clinc150.jsonl"))
    ap.add_argument("--embeddings", type=Path, default=Path("/work/shared/datasets/clinc150/clinc150.npy"))
    ap.add_argument("--source-n", type=int, default=22500, help="draw from the first N source rows (in-scope)")
    args = ap.parse_args(argv)
    if args.n < 1 or args.source_n < 1 or args.sigma < 0:
        ap.error("--n and --source-n must be positive, --sigma non-negative")

    src = np.load(args.embeddings, mmap_mode="r")
    if src.ndim != 2 or src.dtype != np.float32:
        sys.exit(f"error: {args.embeddings}: expected a float32 [n, d] array, got {src.dtype} {src.shape}")
    rows = []
    with open(args.docs, encoding="utf-8") as fh:
        for line in fh:
            if len(rows) >= args.source_n:
                break
            if line.strip():
                rows.append(json.loads(line))
    if len(rows) < args.source_n or src.shape[0] < args.source_n:
        sys.exit(f"error: need {args.source_n} source rows, have {len(rows)} docs and {src.shape[0]} embeddings")
    src = np.asarray(src[: args.source_n], dtype=np.float32)

    rng = np.random.default_rng(args.seed)
    pick = rng.integers(0, args.source_n, size=args.n)
    out = np.empty((args.n, src.shape[1]), dtype=np.float32)
    chunk = 65536
    for s in range(0, args.n, chunk):
        e = min(args.n, s + chunk)
        block = src[pick[s:e]] + rng.normal(0.0, args.sigma, size=(e - s, src.shape[1])).astype(np.float32)
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        out[s:e] = block

    args.out_dir.mkdir(parents=True, exist_ok=True)
    np.save(args.out_dir / "synthetic.npy", out)
    with open(args.out_dir / "synthetic.jsonl", "w", encoding="utf-8") as fh:
        for i, j in enumerate(pick.tolist()):
            r = rows[j]
            fh.write(json.dumps({"i": i, "text": r["text"], "label": r["label"], "source": j}) + "\n")
    print(f"wrote {args.n} × {src.shape[1]} to {args.out_dir} (seed {args.seed}, sigma {args.sigma})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
