#!/usr/bin/env python3
"""Seeded 7-day drift split of CLINC150's in-scope docs (benches/drift.sh).

    python drift_split.py --docs clinc150.jsonl --out split.json [--seed 42] [--days 7]
        [--n-early 10] [--n-late 10] [--early-days 3]

The 150 intents (sorted by name) are permuted with numpy.random.default_rng(SEED): the first
N_EARLY are "early" intents, present only on days 1..EARLY_DAYS; the next N_LATE are "late"
intents, present only on days EARLY_DAYS+1..DAYS; every other intent is present on every day.
Each intent's rows are shuffled (same generator) and dealt into its days as evenly as possible
(numpy.array_split). Only the in-scope rows (`"oos": false`) take part.

split.json: {"seed", "days": [[row index into clinc150.jsonl/.npy, ...] per day, ascending],
             "early_intents": [...], "late_intents": [...], "early_days": [1, 2, 3],
             "late_days": [4, 5, 6, 7], "n_docs": in-scope rows, "labels": [intent per row]}
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--n-early", type=int, default=10)
    ap.add_argument("--n-late", type=int, default=10)
    ap.add_argument("--early-days", type=int, default=3)
    args = ap.parse_args(argv)
    if not 1 <= args.early_days < args.days:
        ap.error("--early-days must be in [1, DAYS)")

    labels = []
    with open(args.docs, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("oos"):
                break  # the in-scope rows come first
            labels.append(row["label"])
    n = len(labels)
    intents = sorted(set(labels))
    if args.n_early + args.n_late > len(intents):
        sys.exit(f"error: {len(intents)} intents, asked for {args.n_early} early + {args.n_late} late")

    rng = np.random.default_rng(args.seed)
    order = [intents[i] for i in rng.permutation(len(intents))]
    early = sorted(order[: args.n_early])
    late = sorted(order[args.n_early : args.n_early + args.n_late])
    early_days = list(range(1, args.early_days + 1))
    late_days = list(range(args.early_days + 1, args.days + 1))
    all_days = list(range(1, args.days + 1))

    rows_of = {}
    for i, lab in enumerate(labels):
        rows_of.setdefault(lab, []).append(i)
    days = [[] for _ in range(args.days)]
    for intent in intents:  # sorted: the generator's draws do not depend on dict order
        rows = np.asarray(rows_of[intent])
        rows = rows[rng.permutation(len(rows))]
        present = early_days if intent in early else late_days if intent in late else all_days
        for d, part in zip(present, np.array_split(rows, len(present))):
            days[d - 1].extend(int(r) for r in part)
    days = [sorted(d) for d in days]

    out = {
        "seed": args.seed,
        "days": days,
        "early_intents": early,
        "late_intents": late,
        "early_days": early_days,
        "late_days": late_days,
        "n_docs": n,
        "labels": labels,
    }
    args.out.write_text(json.dumps(out))
    sizes = ", ".join(str(len(d)) for d in days)
    print(f"split: {n} in-scope docs over {args.days} days ({sizes}); early {early}; late {late}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
