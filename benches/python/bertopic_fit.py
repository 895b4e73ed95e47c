#!/usr/bin/env python3
"""Fit Python BERTopic 0.17.4 on precomputed embeddings, time every stage, write assignments.

The Python side of `benches/compare_fit.sh`. Runs in the venv that `setup_venv.sh` creates.

    python bertopic_fit.py --docs D.jsonl --embeddings E.npy [--n 22500]
        [--nr-topics none|auto|N] [--umap seeded|unseeded] [--seed 42] [--fits 2]
        [--assignments A.json] [--report R.json]

Settings (see ../shared/datasets/clinc150/REFERENCE.md):
  --umap seeded    UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                   random_state=SEED) and HDBSCAN(min_cluster_size=10, metric="euclidean",
                   cluster_selection_method="eom"): the settings that produced REFERENCE.md.
                   A fixed seed makes umap-learn single-threaded.
  --umap unseeded  BERTopic's own default UMAP and HDBSCAN (no seed, UMAP multi-threaded,
                   prediction_data=True): what a user gets out of the box.
  Both: CountVectorizer(stop_words="english"), min_topic_size=10, top_n_words=10.

`--fits K` fits K times in one process on the same input: the first fit pays numba's JIT
compilation, the later ones are "warm". The assignments written are those of the last fit.

Stage times are measured by wrapping BERTopic's internal steps on the instance:
  knn       umap.umap_.nearest_neighbors (NN-descent inside UMAP.fit)
  umap      BERTopic._reduce_dimensionality minus knn
  hdbscan   BERTopic._cluster_embeddings
  ctfidf    BERTopic._extract_topics (vectorizer + c-TF-IDF + topic embeddings), top level only
  reduction BERTopic._reduce_topics (includes its c-TF-IDF recomputation)
  other     fit_transform total minus the stages above (bookkeeping, representative docs)
Peak RSS is the process's ru_maxrss (whole process: data, all fits).

Output formats:
  A.json  {"assignments": [topic per doc, -1 = outlier], "topic_words": {"<id>": [w1, ...]}}
          (the format /work/shared/tools/score.py reads)
  R.json  {"settings": {...}, "versions": {...}, "fits": [{"total_s":..., "stages": {...},
          "n_topics":..., "outlier_frac":...}, ...], "first_fit_s", "warm_fit_median_s",
          "peak_rss_mb", "load_s"}
A human-readable summary goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True, type=Path, help="JSONL, one object with a 'text' field per line")
    ap.add_argument("--embeddings", required=True, type=Path, help="float32 [n, d] .npy, same order as --docs")
    ap.add_argument("--n", type=int, default=None, help="use only the first N docs (default: all)")
    ap.add_argument("--nr-topics", default="none", help="none, auto or a positive integer")
    ap.add_argument("--umap", choices=("seeded", "unseeded"), default="seeded")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-topic-size", type=int, default=10)
    ap.add_argument("--fits", type=int, default=2, help="fits in this process (first = cold, rest = warm)")
    ap.add_argument("--assignments", type=Path, help="write score.py-format assignments of the last fit here")
    ap.add_argument("--report", type=Path, help="write timings/memory JSON here")
    args = ap.parse_args(argv)
    if args.fits < 1:
        ap.error("--fits must be at least 1")
    nt = args.nr_topics.strip().lower()
    if nt in ("", "none"):
        args.nr_topics_value = None
    elif nt == "auto":
        args.nr_topics_value = "auto"
    else:
        try:
            v = int(nt)
        except ValueError:
            ap.error(f"--nr-topics: expected none, auto or a positive integer, got {args.nr_topics!r}")
        if v < 1:
            ap.error("--nr-topics must be positive")
        args.nr_topics_value = v
    return args


def load(args):
    import numpy as np

    t0 = time.perf_counter()
    emb = np.load(args.embeddings, mmap_mode="r")
    if emb.ndim != 2:
        sys.exit(f"error: {args.embeddings}: expected a 2-d array, got shape {emb.shape}")
    if emb.dtype != np.float32:
        sys.exit(f"error: {args.embeddings}: expected float32, got {emb.dtype}")
    docs = []
    with open(args.docs, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if args.n is not None and len(docs) >= args.n:
                break
            line = line.strip()
            if not line:
                continue
            try:
                docs.append(json.loads(line)["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                sys.exit(f"error: {args.docs}:{lineno}: not a JSON object with a 'text' field ({e})")
    n = len(docs) if args.n is None else args.n
    if len(docs) < n or emb.shape[0] < n:
        sys.exit(f"error: asked for {n} docs but {args.docs} has {len(docs)} and {args.embeddings} has {emb.shape[0]} rows")
    if args.n is None and emb.shape[0] != len(docs):
        sys.exit(f"error: {args.docs} has {len(docs)} docs but {args.embeddings} has {emb.shape[0]} rows")
    emb = np.ascontiguousarray(emb[:n])
    if not np.isfinite(emb).all():
        sys.exit(f"error: {args.embeddings} contains NaN or infinity")
    return docs[:n], emb, time.perf_counter() - t0


class StageClock:
    """Accumulates wall time per stage; nested timed calls count towards the outermost stage."""

    def __init__(self):
        self.times = {}
        self.depth = 0

    def wrap(self, name, fn):
        def timed(*a, **kw):
            if self.depth > 0:
                return fn(*a, **kw)
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t0
                self.depth -= 1

        return timed


def build_model(args):
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(stop_words="english")
    if args.umap == "seeded":
        from hdbscan import HDBSCAN
        from umap import UMAP

        umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=args.seed)
        hdbscan_model = HDBSCAN(
            min_cluster_size=args.min_topic_size, metric="euclidean", cluster_selection_method="eom"
        )
    else:
        umap_model = None  # BERTopic's default: UMAP(15, 5, 0.0, cosine, low_memory=False), no seed
        hdbscan_model = None  # BERTopic's default: HDBSCAN(min_topic_size, euclidean, eom, prediction_data=True)
    return BERTopic(
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer,
        min_topic_size=args.min_topic_size,
        top_n_words=10,
        nr_topics=args.nr_topics_value,
    )


def fit_once(args, docs, emb):
    import umap.umap_ as umap_mod

    model = build_model(args)
    clock = StageClock()
    # umap-learn looks nearest_neighbors up in its module globals at call time.
    orig_nn = umap_mod.nearest_neighbors
    inner = StageClock()
    umap_mod.nearest_neighbors = inner.wrap("knn", orig_nn)
    try:
        for attr, stage in (
            ("_reduce_dimensionality", "umap"),
            ("_cluster_embeddings", "hdbscan"),
            ("_extract_topics", "ctfidf"),
            ("_reduce_topics", "reduction"),
        ):
            setattr(model, attr, clock.wrap(stage, getattr(model, attr)))
        t0 = time.perf_counter()
        topics, _ = model.fit_transform(docs, embeddings=emb)
        total = time.perf_counter() - t0
    finally:
        umap_mod.nearest_neighbors = orig_nn
    stages = dict(clock.times)
    knn = inner.times.get("knn", 0.0)
    stages["knn"] = knn
    stages["umap"] = stages.get("umap", 0.0) - knn
    stages.setdefault("reduction", 0.0)
    stages["other"] = total - sum(stages[s] for s in ("knn", "umap", "hdbscan", "ctfidf", "reduction"))
    topics = [int(t) for t in topics]
    n_out = sum(1 for t in topics if t == -1)
    info = {
        "total_s": total,
        "stages": {k: stages.get(k, 0.0) for k in ("knn", "umap", "hdbscan", "ctfidf", "reduction", "other")},
        "n_topics": len({t for t in topics if t != -1}),
        "outlier_frac": n_out / max(1, len(topics)),
    }
    return model, topics, info


def topic_words(model):
    out = {}
    for tid, words in model.get_topics().items():
        if int(tid) == -1:
            continue
        out[str(int(tid))] = [w for w, _ in words if w]
    return out


def versions():
    import importlib.metadata as md

    v = {"python": sys.version.split()[0]}
    for name in ("bertopic", "umap-learn", "hdbscan", "pynndescent", "numba", "numpy", "scikit-learn"):
        try:
            v[name] = md.version(name)
        except md.PackageNotFoundError:
            v[name] = None
    return v


def main(argv=None):
    args = parse_args(argv)
    docs, emb, load_s = load(args)
    print(
        f"bertopic_fit: {len(docs)} docs × {emb.shape[1]} dims, nr_topics={args.nr_topics}, "
        f"umap={args.umap}, fits={args.fits}",
        file=sys.stderr,
    )
    fits = []
    model = topics = None
    for i in range(args.fits):
        model, topics, info = fit_once(args, docs, emb)
        fits.append(info)
        s = info["stages"]
        print(
            f"  fit {i + 1}/{args.fits}: total {info['total_s']:.2f} s "
            f"(knn {s['knn']:.2f}, umap {s['umap']:.2f}, hdbscan {s['hdbscan']:.2f}, "
            f"ctfidf {s['ctfidf']:.2f}, reduction {s['reduction']:.2f}, other {s['other']:.2f}) "
            f"topics {info['n_topics']}, outliers {100 * info['outlier_frac']:.1f} %",
            file=sys.stderr,
        )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    warm = [f["total_s"] for f in fits[1:]]
    report = {
        "settings": {
            "n_docs": len(docs),
            "dim": int(emb.shape[1]),
            "nr_topics": args.nr_topics,
            "umap": args.umap,
            "seed": args.seed if args.umap == "seeded" else None,
            "min_topic_size": args.min_topic_size,
            "fits": args.fits,
        },
        "versions": versions(),
        "load_s": load_s,
        "fits": fits,
        "first_fit_s": fits[0]["total_s"],
        "warm_fit_median_s": statistics.median(warm) if warm else None,
        "peak_rss_mb": peak_rss_mb,
    }
    print(f"  peak RSS {peak_rss_mb:.0f} MB", file=sys.stderr)
    if args.assignments:
        args.assignments.parent.mkdir(parents=True, exist_ok=True)
        with open(args.assignments, "w") as fh:
            json.dump({"assignments": topics, "topic_words": topic_words(model)}, fh)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        with open(args.report, "w") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
