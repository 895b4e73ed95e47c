#!/usr/bin/env python3
"""Scores the knowledge-gap benchmark (benches/faq_gaps.sh, issue 29); standard library only.

    faq_gaps_table.py scores-clinc150.json [scores-banking77.json ...] [--threshold 0.5]
                      [--json OUT]

Reads the scores written by `faq_gaps` (benches/src/bin/faq_gaps.rs). An entry is truly
covered when its topic's majority intent has an article; at threshold t it is predicted covered
when its best article's cosine is >= t. An entry is *right* when
  - it is a gap and predicted a gap, or
  - it is covered and predicted covered by the article of its own intent (strict; the lenient
    count only asks for "covered").
"Gap" is the positive class: precision = right gaps / predicted gaps, recall = right gaps /
true gaps. Both representations are scored: the topic embedding (what the server compares) and
the most central member (the canonical question without an LLM).

Prints, per dataset and representation, the sweep (0.30..0.80 by 0.02) and the best threshold,
then the threshold that maximises the smallest strict accuracy over all datasets (the default
the server should use), and every dataset's numbers at --threshold (default: that one).
"""

import argparse
import json


def score(entries, basis, t):
    n = len(entries)
    right = lenient = tp = fp = fn = 0
    for e in entries:
        s = e[basis]["score"]
        covered_pred = s is not None and s >= t
        truth_gap = not e["has_article"]
        if truth_gap and not covered_pred:
            right += 1
            lenient += 1
            tp += 1
        elif truth_gap and covered_pred:
            fn += 1
        elif not truth_gap and covered_pred:
            lenient += 1
            if e[basis]["intent"] == e["intent"]:
                right += 1
        else:
            fp += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "threshold": round(t, 2),
        "entries": n,
        "accuracy": right / n if n else 0.0,
        "lenient_accuracy": lenient / n if n else 0.0,
        "gap_precision": precision,
        "gap_recall": recall,
        "true_gaps": sum(1 for e in entries if not e["has_article"]),
    }


def sweep_values():
    return [round(0.30 + 0.02 * i, 2) for i in range(26)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scores", nargs="+")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--json")
    args = ap.parse_args()
    data = [json.load(open(p)) for p in args.scores]
    out = {"datasets": {}}
    for basis in ("topic", "question"):
        print(f"\n### Sweep, entry = {basis} embedding\n")
        header = "| threshold | " + " | ".join(
            f"{d['dataset']} acc / gap P / gap R" for d in data) + " | min acc |"
        print(header)
        print("|" + "---|" * (len(data) + 2))
        best = None
        for t in sweep_values():
            rows = [score(d["entries"], basis, t) for d in data]
            worst = min(r["accuracy"] for r in rows)
            cells = " | ".join(
                f"{r['accuracy']:.3f} / {r['gap_precision']:.3f} / {r['gap_recall']:.3f}" for r in rows)
            print(f"| {t:.2f} | {cells} | {worst:.3f} |")
            if best is None or worst > best[1] + 1e-12:
                best = (t, worst)
        print(f"\nbest threshold for {basis}: {best[0]:.2f} (smallest accuracy {best[1]:.3f})")
        out[f"best_{basis}"] = {"threshold": best[0], "min_accuracy": best[1]}
    t = args.threshold if args.threshold is not None else out["best_topic"]["threshold"]
    print(f"\n### At threshold {t:.2f}\n")
    print("| dataset | entries (>= 20 msgs) | true gaps | entry | right (strict) | right (covered/gap only) | gap precision | gap recall |")
    print("|---|---|---|---|---|---|---|---|")
    for d in data:
        for basis in ("topic", "question"):
            r = score(d["entries"], basis, t)
            out["datasets"].setdefault(d["dataset"], {})[basis] = r
            print(f"| {d['dataset']} | {r['entries']} | {r['true_gaps']} | {basis} | "
                  f"{r['accuracy']:.1%} | {r['lenient_accuracy']:.1%} | "
                  f"{r['gap_precision']:.3f} | {r['gap_recall']:.3f} |")
    out["threshold"] = t
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
