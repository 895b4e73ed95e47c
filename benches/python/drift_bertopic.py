#!/usr/bin/env python3
"""The Python BERTopic side of the 7-day drift simulation (benches/drift.sh).

    python drift_bertopic.py --docs clinc150.jsonl --embeddings clinc150.npy --split split.json
        --out result.json [--seed 42] [--min-similarity 0.7] [--min-topic-size 10]

Each day: BERTopic 0.17.4 fitted on that day's docs with their precomputed embeddings and the
settings of ../../shared/datasets/clinc150/REFERENCE.md (UMAP(n_neighbors=15, n_components=5,
min_dist=0.0, metric="cosine", random_state=SEED), HDBSCAN(min_cluster_size=MIN_TOPIC_SIZE,
metric="euclidean", cluster_selection_method="eom"), CountVectorizer(stop_words="english"),
min_topic_size=MIN_TOPIC_SIZE, top_n_words=10, nr_topics=None). Day 1's model is the base; every
later night `merged = BERTopic.merge_models([merged, day], min_similarity=MIN_SIMILARITY)`.
After day 7 every in-scope doc is transformed with the merged model (embeddings given).

result.json (the format drift_table.py reads, the same as the Rust side's):
  {"system", "params", "days": [{"day", "n_docs", "day_topics", "merged_topics", "fit_s",
   "merge_s"}], "day1_assignments": [topic per doc of split day 1, in split order],
   "final_assignments": [topic per in-scope doc], "transform_s", "total_s"}
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def build_model(seed: int, min_topic_size: int):
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    return BERTopic(
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed),
        hdbscan_model=HDBSCAN(
            min_cluster_size=min_topic_size, metric="euclidean", cluster_selection_method="eom"
        ),
        vectorizer_model=CountVectorizer(stop_words="english"),
        min_topic_size=min_topic_size,
        top_n_words=10,
        nr_topics=None,
    )


def n_topics(model) -> int:
    return len([t for t in model.get_topics() if t != -1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True, type=Path)
    ap.add_argument("--embeddings", required=True, type=Path)
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-similarity", type=float, default=0.7)
    ap.add_argument("--min-topic-size", type=int, default=10)
    args = ap.parse_args(argv)

    from bertopic import BERTopic

    t_all = time.perf_counter()
    split = json.loads(args.split.read_text())
    n = split["n_docs"]
    texts = []
    with open(args.docs, encoding="utf-8") as fh:
        for line in fh:
            if len(texts) >= n:
                break
            if line.strip():
                texts.append(json.loads(line)["text"])
    emb = np.load(args.embeddings, mmap_mode="r")
    emb = np.ascontiguousarray(emb[:n], dtype=np.float32)

    merged = None
    days = []
    day1 = None
    for d, rows in enumerate(split["days"], start=1):
        rows = np.asarray(rows)
        docs = [texts[i] for i in rows]
        t0 = time.perf_counter()
        model = build_model(args.seed, args.min_topic_size)
        topics, _ = model.fit_transform(docs, embeddings=emb[rows])
        fit_s = time.perf_counter() - t0
        if d == 1:
            day1 = [int(t) for t in topics]
        t0 = time.perf_counter()
        merged = model if merged is None else BERTopic.merge_models([merged, model], min_similarity=args.min_similarity)
        merge_s = time.perf_counter() - t0
        info = {
            "day": d,
            "n_docs": len(rows),
            "day_topics": n_topics(model),
            "merged_topics": n_topics(merged),
            "fit_s": fit_s,
            "merge_s": merge_s,
        }
        days.append(info)
        print(
            f"day {d}: {len(rows)} docs, {info['day_topics']} day topics, {info['merged_topics']} merged "
            f"(fit {fit_s:.1f} s, merge {merge_s:.2f} s)",
            file=sys.stderr,
        )

    t0 = time.perf_counter()
    final, _ = merged.transform(texts, embeddings=emb)
    transform_s = time.perf_counter() - t0
    out = {
        "system": "bertopic",
        "params": {
            "seed": args.seed,
            "min_similarity": args.min_similarity,
            "min_topic_size": args.min_topic_size,
            "bertopic": __import__("bertopic").__version__,
        },
        "days": days,
        "day1_assignments": day1,
        "final_assignments": [int(t) for t in final],
        "transform_s": transform_s,
        "total_s": time.perf_counter() - t_all,
    }
    args.out.write_text(json.dumps(out))
    print(f"transform of {n} docs: {transform_s:.2f} s; total {out['total_s']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
