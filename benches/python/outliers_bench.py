#!/usr/bin/env python3
"""Outlier policy: the Python side of `benches/outliers.sh`.

Scores topicd's fits (`topics fit --outliers keep|reduce --outlier-threshold T`, each followed by
`topics transform` of the same documents with the fitted model) and BERTopic 0.17.4's
`reduce_outliers(strategy="embeddings", threshold=T)` on one BERTopic fit of the same texts and
embeddings (the REFERENCE.md UMAP / HDBSCAN settings, seed 42).

    python outliers_bench.py --docs D.jsonl --embeddings E.npy
        --topicd LABEL=fit.json:transform.json ... [--bertopic-thresholds 0.35 0.5] [--out R.json]

Columns: outliers = share of all documents at -1; NMI = sklearn's NMI against the true intents
(outliers one class; CLINC150's out-of-scope included); for topicd, "fit = transform" = the
share of documents whose Transform topic is their Fit topic, over all documents and over the
documents HDBSCAN left as outliers (the first run's -1s, which must be `keep`).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score


def bertopic_fit(texts, emb, seed):
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    model = BERTopic(
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed),
        hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                              prediction_data=True),
        vectorizer_model=CountVectorizer(stop_words="english"),
    )
    t0 = time.perf_counter()
    topics, _ = model.fit_transform(texts, embeddings=emb)
    return model, topics, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True, type=Path)
    ap.add_argument("--embeddings", required=True, type=Path)
    ap.add_argument("--topicd", nargs="*", default=[], help="LABEL=fit.json:transform.json")
    ap.add_argument("--bertopic-thresholds", nargs="*", type=float, default=[])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)

    rows = [json.loads(l) for l in a.docs.read_text().splitlines() if l.strip()]
    texts = [r["text"] for r in rows]
    labels = np.asarray([r["label"] for r in rows])
    emb = np.load(a.embeddings).astype(np.float32)

    def score(assign):
        assign = np.asarray(assign)
        return {"outliers": float(np.mean(assign == -1)),
                "nmi": float(normalized_mutual_info_score(labels, assign)),
                "topics": int(len(set(assign.tolist()) - {-1}))}

    results = []
    hdbscan_outliers = None
    for item in a.topicd:
        label, paths = item.rsplit("=", 1)
        fit_path, transform_path = paths.split(":")
        fit = np.asarray(json.loads(Path(fit_path).read_text())["assignments"])
        tr = np.asarray(json.loads(Path(transform_path).read_text())["assignments"])
        if hdbscan_outliers is None:
            hdbscan_outliers = fit == -1
        same = fit == tr
        results.append({"system": "topicd", "run": label, **score(fit),
                        "agree_all": float(np.mean(same)),
                        "agree_outliers": float(np.mean(same[hdbscan_outliers]))})
    if a.bertopic_thresholds:
        model, topics, secs = bertopic_fit(texts, emb, a.seed)
        print(f"BERTopic fit: {secs:.1f} s", file=sys.stderr)
        results.append({"system": "BERTopic", "run": "keep", **score(topics)})
        for thr in a.bertopic_thresholds:
            new = model.reduce_outliers(texts, topics, strategy="embeddings", embeddings=emb, threshold=thr)
            results.append({"system": "BERTopic", "run": f"reduce_outliers(embeddings, threshold={thr})",
                            **score(new)})

    print("| system | run | outliers | NMI | topics | fit = transform (all docs) | (HDBSCAN's outliers) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        agree = (f"{100 * r['agree_all']:.1f} % | {100 * r['agree_outliers']:.1f} %"
                 if "agree_all" in r else "— | —")
        print(f"| {r['system']} | {r['run']} | {100 * r['outliers']:.1f} % | {r['nmi']:.4f} | "
              f"{r['topics']} | {agree} |")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
