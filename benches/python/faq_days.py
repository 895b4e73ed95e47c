"""Writes the FAQ quality benchmark's input (issue 29): one tenant's in-scope messages of a
labelled intent set (CLINC150 or Banking77 layout: jsonl rows {i, text, label, oos} + a float32
.npy of their embeddings in row order) spread over DAYS days, as a `topics nightly --jsonl` file
with each message's embedding (so the server does not embed). A seeded permutation: message k of
the permutation goes to day k % DAYS. Deterministic for a seed.

    python3 benches/python/faq_days.py --docs D.jsonl --embeddings E.npy --out OUT.jsonl \
        --tenant T --start 2026-11-23 [--days 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", required=True)
    p.add_argument("--embeddings", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.docs, encoding="utf-8")]
    emb = np.load(a.embeddings)
    if emb.shape[0] != len(rows):
        p.error(f"{len(rows)} documents but {emb.shape[0]} embeddings")
    keep = [i for i, r in enumerate(rows) if not r.get("oos", False)]
    perm = np.random.default_rng(a.seed).permutation(len(keep))
    start = dt.date.fromisoformat(a.start)
    per_day = [0] * a.days
    with open(a.out, "w", encoding="utf-8") as f:
        for k, j in enumerate(perm):
            i = keep[int(j)]
            d = k % a.days
            day = start + dt.timedelta(days=d)
            s = (per_day[d] * 7) % 86400
            per_day[d] += 1
            created = f"{day.isoformat()}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"
            vec = "[" + ",".join(f"{x:.6f}" for x in emb[i]) + "]"
            f.write(
                '{"tenant_id":%s,"id":"m-%d","text":%s,"created_at":"%s","embedding":%s}\n'
                % (json.dumps(a.tenant), i, json.dumps(rows[i]["text"]), created, vec)
            )
    print(f"wrote {len(keep)} messages over {a.days} days to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
