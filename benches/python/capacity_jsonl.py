"""Writes the nightly capacity benchmark's input: a `topics nightly --jsonl` file of
TENANTS tenants x MESSAGES CLINC150 messages with their reference embeddings (all-MiniLM-L6-v2,
precomputed, so the server does not embed).

Each tenant `cap-00000`... gets its own intent mix: a seeded number of in-scope intents in
[INTENTS_MIN, INTENTS_MAX], with 1/rank shares so a few topics dominate (as in support traffic),
drawn without replacement inside an intent while it has unused messages. Messages are spread
over the day DAY (UTC). Deterministic for a seed.

    python3 benches/python/capacity_jsonl.py OUT.jsonl [--tenants 2000] [--messages 200]
        [--intents 4 12] [--seed 42] [--day 2026-11-24] [--datasets DIR]
"""

import argparse
import json
import os
import pathlib
import sys

import numpy as np


def main() -> int:
    here = pathlib.Path(__file__).resolve()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--tenants", type=int, default=2000)
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--intents", type=int, nargs=2, default=(4, 12), metavar=("MIN", "MAX"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--day", default="2026-11-24")
    found = [q / "shared" / "datasets" for q in here.parents if (q / "shared" / "datasets" / "clinc150").is_dir()]
    default = os.environ.get("TOPICD_DATASETS") or (str(found[0]) if found else "../shared/datasets")
    p.add_argument("--datasets", default=default, help="directory holding clinc150/ (env TOPICD_DATASETS)")
    a = p.parse_args()
    lo, hi = a.intents
    if a.tenants < 1 or a.messages < 1 or not 1 <= lo <= hi:
        p.error("--tenants, --messages must be positive and 1 <= MIN <= MAX")

    d = pathlib.Path(a.datasets) / "clinc150"
    rows = [json.loads(line) for line in open(d / "clinc150.jsonl", encoding="utf-8")]
    emb = np.load(d / "clinc150.npy").astype(np.float32)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if not r.get("oos"):
            groups.setdefault(r["label"], []).append(i)
    intents = [groups[k] for k in sorted(groups)]
    # Embeddings as JSON text once per row, 6 decimals (cosine error < 1e-5).
    emb_text = {}

    rng = np.random.default_rng(a.seed)
    seconds = 86_400
    with open(a.out, "w", encoding="utf-8") as f:
        for t in range(a.tenants):
            k = int(rng.integers(lo, hi + 1))
            chosen = rng.choice(len(intents), size=min(k, len(intents)), replace=False)
            w = 1.0 / np.arange(1, len(chosen) + 1)
            pools = [list(rng.permutation(intents[g])) for g in chosen]
            picks = rng.choice(len(chosen), size=a.messages, p=w / w.sum())
            tenant = f"cap-{t:05d}"
            for m, g in enumerate(picks):
                row = pools[g].pop() if pools[g] else int(rng.choice(intents[chosen[g]]))
                if row not in emb_text:
                    emb_text[row] = "[" + ",".join(f"{x:.6f}" for x in emb[row]) + "]"
                s = seconds * m // a.messages
                created = f"{a.day}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"
                f.write(
                    '{"tenant_id":%s,"id":"%s-%d","text":%s,"created_at":"%s","embedding":%s}\n'
                    % (json.dumps(tenant), tenant, m, json.dumps(rows[row]["text"]), created, emb_text[row])
                )
    print(f"wrote {a.tenants} tenants x {a.messages} messages to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
