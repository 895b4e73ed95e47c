#!/usr/bin/env python3
"""Score the 7-day drift simulation (benches/drift.sh) and print a markdown table.

    python drift_table.py --split split.json RESULT.json [RESULT.json ...] [--json scores.json]

Every RESULT.json (drift.rs or drift_bertopic.py) is scored the same way against the gold
intents of the split (`labels`):

- topics/day: active (non-outlier) topics of the merged model after each night.
- NMI / ARI: sklearn normalized_mutual_info_score / adjusted_rand_score of the final transform
  of every in-scope doc against the intents; outliers (-1) count as one more cluster (score.py's
  "nmi_all" / "ari_all").
- outliers: share of docs the final transform put in -1.
- late intents found: for each intent present only on the late days, its best topic is the
  non-outlier topic holding most of its docs in the final transform; found when that topic's
  purity (intent docs / topic docs) >= 0.5 and recall (intent docs / intent docs) >= 0.25. The
  same for the early intents (present only on the first days), for information.
- id stability: the majority intent of every topic id assigned on day 1 (day 1's fit) is
  compared with the majority intent of the same id in the final transform. "existing" = ids
  that still get documents in the final transform; "stable" = those whose majority intent is
  unchanged. Target: stable == existing. A day-1 cluster often holds two or three close intents
  in near-equal parts (bill_balance / bill_due / min_payment), whose majority can tip on a few
  documents without the topic changing meaning; so a second, tie-tolerant count is reported
  too: "kept" = ids whose final majority intent already made up >= 25 % of the topic on day 1.
  "stable, ties either way" is the strict count with an exact tie for the majority (on day 1 or
  in the final transform) read as several majority intents: the id counts as stable when the
  two sets share an intent, instead of depending on the alphabetical tie-break.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def majority(ids, labels):
    by = defaultdict(Counter)
    for t, lab in zip(ids, labels):
        if t != -1:
            by[t][lab] += 1
    # ties: the alphabetically first intent, so the result does not depend on doc order
    return {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in by.items()}


def majorities(ids, labels):
    """Every intent tied for the majority of each topic."""
    by = defaultdict(Counter)
    for t, lab in zip(ids, labels):
        if t != -1:
            by[t][lab] += 1
    return {t: {lab for lab, n in c.items() if n == max(c.values())} for t, c in by.items()}


def shares(ids, labels):
    by = defaultdict(Counter)
    for t, lab in zip(ids, labels):
        if t != -1:
            by[t][lab] += 1
    return {t: {lab: n / sum(c.values()) for lab, n in c.items()} for t, c in by.items()}


def intents_found(final, labels, intents):
    size = Counter(t for t in final if t != -1)
    found = []
    detail = {}
    for intent in intents:
        c = Counter(t for t, lab in zip(final, labels) if lab == intent and t != -1)
        n_intent = sum(1 for lab in labels if lab == intent)
        if not c:
            detail[intent] = None
            continue
        topic, n = min(c.items(), key=lambda kv: (-kv[1], kv[0]))
        purity, recall = n / size[topic], n / n_intent
        detail[intent] = {"topic": topic, "purity": round(purity, 3), "recall": round(recall, 3)}
        if purity >= 0.5 and recall >= 0.25:
            found.append(intent)
    return found, detail


def score(result, split):
    labels = split["labels"]
    final = result["final_assignments"]
    assert len(final) == len(labels), (len(final), len(labels))
    day1_rows = split["days"][0]
    day1 = result["day1_assignments"]
    assert len(day1) == len(day1_rows)
    day1_labels = [labels[i] for i in day1_rows]
    day1_major = majority(day1, day1_labels)
    day1_shares = shares(day1, day1_labels)
    final_major = majority(final, labels)
    existing = [t for t in day1_major if t in final_major]
    stable = [t for t in existing if final_major[t] == day1_major[t]]
    kept = [t for t in existing if day1_shares[t].get(final_major[t], 0.0) >= 0.25]
    day1_all, final_all = majorities(day1, day1_labels), majorities(final, labels)
    stable_ties = [t for t in existing if day1_all[t] & final_all[t]]
    late_found, late_detail = intents_found(final, labels, split["late_intents"])
    early_found, early_detail = intents_found(final, labels, split["early_intents"])
    arr = np.asarray(final)
    return {
        "system": result["system"],
        "topics_per_day": [d["merged_topics"] for d in result["days"]],
        "day_topics": [d["day_topics"] for d in result["days"]],
        "nmi": float(normalized_mutual_info_score(labels, final)),
        "ari": float(adjusted_rand_score(labels, final)),
        "outlier_frac": float((arr == -1).mean()),
        "late_found": len(late_found),
        "late_total": len(split["late_intents"]),
        "late_detail": late_detail,
        "early_found": len(early_found),
        "early_total": len(split["early_intents"]),
        "early_detail": early_detail,
        "day1_topics": len(day1_major),
        "ids_existing": len(existing),
        "ids_stable": len(stable),
        "ids_kept": len(kept),
        "ids_stable_ties": len(stable_ties),
        "ids_changed": sorted(int(t) for t in existing if final_major[t] != day1_major[t]),
        "fit_s": sum(d["fit_s"] for d in result["days"]),
        "merge_s": sum(d["merge_s"] for d in result["days"]),
        "transform_s": result["transform_s"],
        "total_s": result["total_s"],
    }


def table(scores):
    names = [s["system"] for s in scores]
    rows = [
        ("merged topics, day 1–7", [", ".join(map(str, s["topics_per_day"])) for s in scores]),
        ("day-model topics, day 1–7", [", ".join(map(str, s["day_topics"])) for s in scores]),
        ("NMI (final transform, all docs)", [f"{s['nmi']:.3f}" for s in scores]),
        ("ARI (final transform, all docs)", [f"{s['ari']:.3f}" for s in scores]),
        ("outliers in final transform", [f"{100 * s['outlier_frac']:.1f} %" for s in scores]),
        ("late intents found", [f"{s['late_found']}/{s['late_total']}" for s in scores]),
        ("early intents found", [f"{s['early_found']}/{s['early_total']}" for s in scores]),
        (
            "day-1 ids stable (stable/existing, of day-1 topics)",
            [f"{s['ids_stable']}/{s['ids_existing']} (of {s['day1_topics']})" for s in scores],
        ),
        (
            "day-1 ids stable, a tied majority counting as either intent",
            [f"{s['ids_stable_ties']}/{s['ids_existing']}" for s in scores],
        ),
        (
            "day-1 ids whose final majority held >= 25 % on day 1",
            [f"{s['ids_kept']}/{s['ids_existing']}" for s in scores],
        ),
        ("fit / merge / transform, s (all days)", [f"{s['fit_s']:.1f} / {s['merge_s']:.2f} / {s['transform_s']:.2f}" for s in scores]),
    ]
    out = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for name, vals in rows:
        out.append(f"| {name} | " + " | ".join(vals) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("results", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, help="also write all scores (with per-intent detail) here")
    args = ap.parse_args(argv)
    split = json.loads(args.split.read_text())
    scores = [score(json.loads(p.read_text()), split) for p in args.results]
    print(table(scores))
    if args.json:
        args.json.write_text(json.dumps(scores, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
