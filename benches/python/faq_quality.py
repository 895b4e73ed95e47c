"""FAQ quality (issue 29): scores a tenant's FAQ against the intent labels of its messages.

Three subcommands, run by benches/faq_quality.sh:

    faq_quality.py assign --http URL --tenant T --days-jsonl IN.jsonl --out ASSIGN.json
        Tags every message of IN.jsonl (with its embedding) with the active model through
        `POST /v1/tenants/T/transform`: {message id: topic id}.
    faq_quality.py texts --faq FAQ.json --out TEXTS.jsonl
        The canonical questions, then every example, one {"text"} per line (for `topics embed`).
    faq_quality.py score --docs D.jsonl --embeddings E.npy --faq FAQ.json --assign ASSIGN.json
                         --text-embeddings TEXTS.npy [--min-messages 20] [--out SCORES.json]
        For entries of topics with >= min-messages messages (tagged):
        (a) % of examples whose message belongs to the topic's majority intent (an example is
            matched to its message by text; an example not found counts as wrong);
        (b) % of canonical questions whose embedding is nearest (cosine) to the centroid of the
            topic's majority intent among all intents' centroids;
        (c) pairs of near-duplicate examples (cosine >= 0.95) within an entry;
        (d) pairs of entries whose questions are near-duplicates (cosine >= 0.95).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import urllib.request

import numpy as np

NEAR_DUPLICATE = 0.95


def cmd_assign(a: argparse.Namespace) -> int:
    ids, rows = [], []
    for line in open(a.days_jsonl, encoding="utf-8"):
        r = json.loads(line)
        ids.append(r["id"])
        rows.append(r["embedding"])
    out: dict[str, int] = {}
    url = f"{a.http}/v1/tenants/{a.tenant}/transform"
    for s in range(0, len(rows), a.batch):
        body = json.dumps({"embeddings": rows[s : s + a.batch]}).encode()
        req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as resp:
            ans = json.load(resp)
        for mid, res in zip(ids[s : s + a.batch], ans["results"]):
            out[mid] = int(res["topic_id"])
    json.dump(out, open(a.out, "w"))
    print(f"tagged {len(out)} messages", file=sys.stderr)
    return 0


def entries(path: str) -> list[dict]:
    return json.load(open(path, encoding="utf-8"))["entries"]


def cmd_texts(a: argparse.Namespace) -> int:
    es = entries(a.faq)
    with open(a.out, "w", encoding="utf-8") as f:
        for e in es:
            f.write(json.dumps({"text": e["question"]}) + "\n")
        for e in es:
            for x in e["examples"]:
                f.write(json.dumps({"text": x}) + "\n")
    return 0


def norm(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(n == 0, 1, n)


def cmd_score(a: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in open(a.docs, encoding="utf-8")]
    emb = norm(np.load(a.embeddings).astype(np.float64))
    labels = [r["label"] for r in rows]
    intents = sorted({l for r, l in zip(rows, labels) if not r.get("oos", False)})
    index = {l: k for k, l in enumerate(intents)}
    centroids = np.zeros((len(intents), emb.shape[1]))
    for i, r in enumerate(rows):
        if not r.get("oos", False):
            centroids[index[labels[i]]] += emb[i]
    centroids = norm(centroids)
    by_text: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in rows:
        by_text[" ".join(r["text"].split()).lower()][r["label"]] += 1

    assign = json.load(open(a.assign))
    per_topic: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for mid, t in assign.items():
        per_topic[t][labels[int(mid.split("-")[1])]] += 1

    es = entries(a.faq)
    text_emb = norm(np.load(a.text_embeddings).astype(np.float64))
    q_emb = text_emb[: len(es)]
    x_off = len(es)
    scored, ex_total, ex_ok, q_ok, dup_within = [], 0, 0, 0, 0
    q_rows = []
    for k, e in enumerate(es):
        n_ex = len(e["examples"])
        ex_emb = text_emb[x_off : x_off + n_ex]
        x_off += n_ex
        t = int(e["topic_id"])
        tagged = sum(per_topic[t].values())
        if tagged < a.min_messages:
            continue
        majority = per_topic[t].most_common(1)[0][0]
        ok = 0
        for x in e["examples"]:
            c = by_text.get(" ".join(x.split()).lower())
            if c and c.most_common(1)[0][0] == majority:
                ok += 1
        ex_total += n_ex
        ex_ok += ok
        nearest = intents[int(np.argmax(centroids @ q_emb[k]))]
        q_ok += nearest == majority
        sims = ex_emb @ ex_emb.T
        dups = int(((sims >= NEAR_DUPLICATE).sum() - n_ex) // 2)
        dup_within += dups
        q_rows.append(k)
        scored.append({
            "topic_id": t, "messages": tagged, "majority_intent": majority,
            "majority_share": per_topic[t][majority] / tagged, "question": e["question"],
            "question_nearest_intent": nearest, "examples": n_ex, "examples_in_majority": ok,
            "near_duplicate_examples": dups,
        })
    qs = q_emb[q_rows]
    qsim = qs @ qs.T
    dup_pairs = [
        (scored[i]["question"], scored[j]["question"], float(qsim[i, j]))
        for i in range(len(q_rows)) for j in range(i + 1, len(q_rows)) if qsim[i, j] >= NEAR_DUPLICATE
    ]
    n = len(scored)
    summary = {
        "entries": len(es),
        "entries_scored": n,
        "a_examples_in_majority_intent_pct": 100.0 * ex_ok / max(ex_total, 1),
        "b_questions_nearest_majority_centroid_pct": 100.0 * q_ok / max(n, 1),
        "c_near_duplicate_examples_within_entries": dup_within,
        "d_near_duplicate_question_pairs": len(dup_pairs),
        "examples_scored": ex_total,
        "intents": len(intents),
    }
    if a.out:
        json.dump({"summary": summary, "entries": scored, "duplicate_questions": dup_pairs},
                  open(a.out, "w"), indent=1)
    print(json.dumps(summary, indent=1))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("assign")
    s.add_argument("--http", required=True)
    s.add_argument("--tenant", required=True)
    s.add_argument("--days-jsonl", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--batch", type=int, default=256)
    s = sub.add_parser("texts")
    s.add_argument("--faq", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--docs", required=True)
    s.add_argument("--embeddings", required=True)
    s.add_argument("--faq", required=True)
    s.add_argument("--assign", required=True)
    s.add_argument("--text-embeddings", required=True)
    s.add_argument("--min-messages", type=int, default=20)
    s.add_argument("--out")
    a = p.parse_args()
    return {"assign": cmd_assign, "texts": cmd_texts, "score": cmd_score}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
