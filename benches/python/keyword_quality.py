#!/usr/bin/env python3
"""Keyword quality of a fit on a non-English corpus: stop words and mangled tokens among the
top-10 keywords of every topic (issue 21's benchmark).

    python keyword_quality.py A.json DOCS.jsonl [--lang fr] [--top 10] [--json]

A.json is `topics fit --assignments` output ({"assignments": [...], "topic_words": {"<id>":
[...]}}); DOCS.jsonl the fitted documents ({"text", ...} per line, same order). Over the top
--top keywords of each topic (ids >= 0), counts:

- **stop words**: keywords in an independent yardstick, not the engine's own lists:
  scikit-learn's English list (BERTopic's `stop_words="english"`) ∪ the `stop-words` PyPI
  package's list for --lang (for French: 348 words, larger than NLTK's that the engine uses)
  minus the content nouns that package wrongly lists (`NOT_STOP_WORDS`, e.g. "mot" of
  "mot de passe"). Greetings and thanks ("bonjour", "merci") are counted apart, as
  **greetings**.
- **mangled**: keywords that are not a word of the corpus as written. The corpus's words are
  the maximal runs of letters and digits of its lower-cased NFC text (an apostrophe or hyphen
  ends a word: "j'ai" gives "j" and "ai", "l'adresse" "l" and "adresse"). BERTopic's English
  preprocessing deletes non-ASCII letters and apostrophes, making "tltravail", "jai",
  "ladresse", which are not words of the corpus; these are also split into **accents
  stripped** (the keyword equals a corpus word with its non-ASCII letters deleted) and **glued
  elisions** (the keyword equals an elided word with its apostrophe deleted).

Prints a JSON line or a short report: keywords counted, each count and its share, and the
offending keywords.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter

GREETINGS = {
    "bonjour", "bonsoir", "salut", "merci", "hello", "hi", "thanks", "thank", "cordialement",
    "coucou", "hey", "ok", "okay", "bisous",
}

# Nouns and adjectives the `stop-words` French list contains that are content words in support
# traffic ("mot de passe", "pièce manquante", "nom de la société", "période d'essai").
NOT_STOP_WORDS = {
    "mot", "nom", "essai", "début", "pièce", "parole", "personne", "personnes", "valeur", "état",
    "sujet", "nouveau", "nouveaux", "force", "haut", "droite", "grande", "chose", "choses",
    "point", "dos", "mine", "passé", "fois",
}

WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")


def strip_non_ascii(word: str) -> str:
    return "".join(c for c in word if c.isascii())


def stop_words(lang: str) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from stop_words import get_stop_words

    words = {normalise(w) for w in ENGLISH_STOP_WORDS}
    words |= {normalise(w).strip("'.") for w in get_stop_words(lang)}
    return {w for w in words if w} - NOT_STOP_WORDS


def corpus_words(texts: list[str]) -> tuple[set[str], set[str], set[str]]:
    """(words, words with non-ASCII letters deleted, elided words with the apostrophe deleted)."""
    words: set[str] = set()
    stripped: set[str] = set()
    glued: set[str] = set()
    for t in texts:
        t = normalise(t)
        for w in WORD.findall(t):
            words.add(w)
            if not w.isascii():
                stripped.add(strip_non_ascii(w))
        for m in re.finditer(r"[^\W_]+(?:'[^\W_]+)+", t):
            glued.add(strip_non_ascii(m.group(0).replace("'", "")))
            glued.add(m.group(0).replace("'", ""))
    return words, stripped, glued


def score(assignments: dict, texts: list[str], lang: str, top: int) -> dict:
    stops = stop_words(lang)
    words, stripped, glued = corpus_words(texts)
    found: dict[str, Counter] = {k: Counter() for k in
                                 ("stop_words", "greetings", "mangled", "accents_stripped",
                                  "glued_elisions")}
    n_keywords = 0
    topics = 0
    for tid, kws in sorted(assignments.get("topic_words", {}).items(), key=lambda kv: int(kv[0])):
        if int(tid) < 0:
            continue
        topics += 1
        for k in kws[:top]:
            n_keywords += 1
            for part in k.split():  # n-grams: every word counts
                p = normalise(part)
                if p in GREETINGS:
                    found["greetings"][p] += 1
                elif p in stops:
                    found["stop_words"][p] += 1
                if p not in words:
                    found["mangled"][p] += 1
                    if p in stripped:
                        found["accents_stripped"][p] += 1
                    elif p in glued:
                        found["glued_elisions"][p] += 1
    out = {"topics": topics, "keywords": n_keywords}
    for name, c in found.items():
        total = sum(c.values())
        out[name] = total
        out[f"{name}_share"] = round(total / n_keywords, 4) if n_keywords else 0.0
        out[f"{name}_examples"] = [w for w, _ in c.most_common(12)]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("assignments")
    ap.add_argument("docs")
    ap.add_argument("--lang", default="fr")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="one JSON line instead of a report")
    args = ap.parse_args(argv)
    with open(args.assignments, encoding="utf-8") as fh:
        a = json.load(fh)
    with open(args.docs, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    if len(a.get("assignments", [])) != len(texts):
        sys.exit(f"{args.assignments}: {len(a.get('assignments', []))} assignments for "
                 f"{len(texts)} documents")
    r = score(a, texts, args.lang, args.top)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
        return
    print(f"{r['topics']} topics, {r['keywords']} keywords (top {args.top})")
    for name in ("stop_words", "greetings", "mangled", "accents_stripped", "glued_elisions"):
        print(f"  {name:<17} {r[name]:>4} ({100 * r[name + '_share']:.1f} %)  "
              f"{', '.join(r[name + '_examples'])}")


if __name__ == "__main__":
    main()
