#!/usr/bin/env python3
"""Defined topics vs BERTopic zero-shot: the Python side of `benches/defined_topics.sh`.

Fits BERTopic 0.17.4 with `zeroshot_topic_list` (the defined topics' names) and
`zeroshot_min_similarity` on the same texts and document embeddings topicd used, with the
names embedded by the same local encoder (`topics embed`; passed in as a lookup backend, so
BERTopic sees exactly topicd's vectors), then scores every run: topicd's assignment files and
BERTopic's fits.

    python zeroshot_bertopic.py --docs D.jsonl --embeddings E.npy --names N.json --name-embeddings NE.npy
        --topicd LABEL=A.json ... [--bertopic-thresholds 0.7 0.5] [--seed 42] [--out R.json]

Scores (`labels` = the dataset's true intents; defined topic j = intent j):
  precision  of the documents put in a defined topic, the share whose true intent is that topic's
  recall     of the documents of the 10 intents, the share put in their intent's defined topic
  nmi        sklearn's NMI of all assignments (outliers -1 one class) against the true labels
topicd's day model numbers defined topics 0..9 in list order; BERTopic's ids are mapped back with
`topic_labels_` (its zero-shot topics are labelled with their names).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score


def scores(assign, labels, names, intents):
    assign = np.asarray(assign)
    labels = np.asarray(labels)
    hit = members = truth = 0
    for j, intent in enumerate(intents):
        m = assign == j
        t = labels == intent
        hit += int(np.sum(m & t))
        members += int(np.sum(m))
        truth += int(np.sum(t))
    p = hit / members if members else 0.0
    r = hit / truth if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "defined_members": members,
        "nmi": float(normalized_mutual_info_score(labels, assign)),
        "outliers": float(np.mean(assign == -1)),
        "topics": int(len(set(assign.tolist()) - {-1})),
    }


def bertopic_zeroshot(texts, emb, names, name_emb, threshold, seed):
    from bertopic import BERTopic
    from bertopic.backend import BaseEmbedder
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    lookup = {n: name_emb[i] for i, n in enumerate(names)}

    class Lookup(BaseEmbedder):
        """The names' vectors as topicd embedded them (documents come precomputed)."""

        def embed(self, documents, verbose=False):
            return np.stack([lookup[d] for d in documents])

    model = BERTopic(
        embedding_model=Lookup(),
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed),
        hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                              prediction_data=True),
        vectorizer_model=CountVectorizer(stop_words="english"),
        zeroshot_topic_list=list(names),
        zeroshot_min_similarity=threshold,
    )
    t0 = time.perf_counter()
    topics, _ = model.fit_transform(texts, embeddings=emb)
    secs = time.perf_counter() - t0
    # Zero-shot topic id -> index in the names list (by its label); others -> -1 / 1000+id.
    labels = model.topic_labels_
    to_defined = {tid: names.index(lbl) for tid, lbl in labels.items() if lbl in names and tid != -1}
    out = []
    for t in topics:
        if t == -1:
            out.append(-1)
        elif t in to_defined:
            out.append(to_defined[t])
        else:
            out.append(1000 + t)
    return out, secs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True, type=Path)
    ap.add_argument("--embeddings", required=True, type=Path)
    ap.add_argument("--names", required=True, type=Path, help="JSON: {names: [...], intents: [...]}")
    ap.add_argument("--name-embeddings", required=True, type=Path)
    ap.add_argument("--topicd", nargs="*", default=[], help="LABEL=assignments.json")
    ap.add_argument("--bertopic-thresholds", nargs="*", type=float, default=[0.7])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)

    rows = [json.loads(l) for l in a.docs.read_text().splitlines() if l.strip()]
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    emb = np.load(a.embeddings).astype(np.float32)
    spec = json.loads(a.names.read_text())
    names, intents = spec["names"], spec["intents"]
    name_emb = np.load(a.name_embeddings).astype(np.float32)

    results = []
    for item in a.topicd:
        label, path = item.rsplit("=", 1)
        assign = json.loads(Path(path).read_text())["assignments"]
        results.append({"system": "topicd", "run": label, **scores(assign, labels, names, intents)})
    for thr in a.bertopic_thresholds:
        assign, secs = bertopic_zeroshot(texts, emb, names, name_emb, thr, a.seed)
        results.append({"system": "BERTopic zero-shot", "run": f"zeroshot_min_similarity={thr}",
                        "fit_s": secs, **scores(assign, labels, names, intents)})
        print(f"BERTopic zero-shot {thr}: {secs:.1f} s", file=sys.stderr)

    print("| system | run | precision | recall | F1 | defined members | NMI | outliers | topics |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['system']} | {r['run']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
              f"{r['defined_members']} | {r['nmi']:.4f} | {100 * r['outliers']:.1f} % | {r['topics']} |")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
