#!/usr/bin/env python3
"""Summarise a benches/compare_fit.sh results directory as Markdown tables.

    python compare_table.py OUT_DIR

Reads OUT_DIR/rust-<setting>/ (`topics fit` stdout with stage timings, /usr/bin/time -v output,
assignments*.json, score.json) and OUT_DIR/py-<umap>-<setting>/ (bertopic_fit.py report.json,
/usr/bin/time -v output, score.json). Prints quality, time per stage, peak RSS and speed ratios.
Rust numbers are the median over runs (each run a fresh process); BERTopic's "warm" numbers are the
median over fits 2..K of one process, "first" is fit 1 (includes numba's JIT compilation).
"""
from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

STAGES = ("knn", "umap", "hdbscan", "ctfidf", "reduction", "other", "total")
# `topics fit` prints a table "stage  seconds" with one line per stage ("knn   0.123"); a unit
# suffix (ms, s) is honoured if present. Only lines that start with the stage name count, so a
# topic label in the topic table below it cannot be mistaken for a stage.
STAGE_LINE = re.compile(
    r"^\s*(k-?nn|umap|hdbscan|c-?tf-?idf|reduction|total)\b[\s:=]+(\d+(?:\.\d+)?)\s*(ms|µs|us|s)?\s*$", re.I
)


def stage_key(name: str) -> str:
    n = name.lower().replace("-", "")
    return {"knn": "knn", "umap": "umap", "hdbscan": "hdbscan", "ctfidf": "ctfidf", "reduction": "reduction"}.get(n, "total")


def parse_rust_stdout(text: str) -> dict:
    """Stage seconds from `topics fit` output (the first line of each stage)."""
    out = {}
    for line in text.splitlines():
        m = STAGE_LINE.match(line)
        if not m:
            continue
        key = stage_key(m.group(1))
        if key in out:
            continue
        v, unit = float(m.group(2)), (m.group(3) or "s")
        out[key] = v / 1e3 if unit == "ms" else v / 1e6 if unit in ("µs", "us") else v
    return out


def parse_time_v(path: Path) -> dict:
    """GNU time -v: peak RSS (MB), wall (s), user+sys CPU (s), CPU %."""
    out = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size"):
            out["peak_rss_mb"] = int(line.rsplit(":", 1)[1]) / 1024.0
        elif line.startswith("Elapsed (wall clock) time"):
            t = line.rsplit(" ", 1)[1]
            secs = 0.0
            for part in t.split(":"):
                secs = secs * 60 + float(part)
            out["wall_s"] = secs
        elif line.startswith("User time"):
            out["user_s"] = float(line.rsplit(":", 1)[1])
        elif line.startswith("System time"):
            out["sys_s"] = float(line.rsplit(":", 1)[1])
        elif line.startswith("Percent of CPU"):
            out["cpu_pct"] = line.rsplit(":", 1)[1].strip()
    return out


def load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(v):
    if v is None:
        return "—"
    return f"{v * 1e3:.0f} ms" if v < 1 else f"{v:.2f} s"


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def collect(out: Path):
    rows = []  # dicts: system, setting, score, stages (median), first/warm totals, rss, runs
    for d in sorted(out.glob("rust-*")):
        setting = d.name[len("rust-"):]
        runs = sorted(d.glob("run*.stdout"))
        stages_runs, times = [], []
        for r in runs:
            st = parse_rust_stdout(r.read_text())
            tv = parse_time_v(r.with_suffix(".time"))
            if "total" not in st and "wall_s" in tv:
                st["total"] = tv["wall_s"]
            stages_runs.append(st)
            times.append(tv)
        stages = {s: med([st.get(s) for st in stages_runs]) for s in STAGES}
        known = [stages[s] for s in ("knn", "umap", "hdbscan", "ctfidf", "reduction") if stages[s] is not None]
        if stages["total"] is not None and known:
            stages["other"] = max(0.0, stages["total"] - sum(known))
        assigns = [load_json(p) for p in sorted(d.glob("assignments[0-9]*.json"))]
        assigns = [a.get("assignments") for a in assigns if a]
        rows.append({
            "system": "topic-engine",
            "setting": setting,
            "variant": "seed 42",
            "score": load_json(d / "score.json") or {},
            "stages": stages,
            "first": med([st.get("total") for st in stages_runs[:1]]),
            "warm": stages["total"],
            "wall": med([t.get("wall_s") for t in times]),
            "rss": med([t.get("peak_rss_mb") for t in times]),
            "cpu": times[0].get("cpu_pct") if times else None,
            "runs": len(runs),
            "deterministic": (all(a == assigns[0] for a in assigns) if len(assigns) > 1 else None),
        })
    for d in sorted(out.glob("py-*")):
        umap_mode, _, setting = d.name[len("py-"):].partition("-")
        rep = load_json(d / "report.json") or {}
        fits = rep.get("fits", [])
        warm_fits = fits[1:] or fits
        stages = {s: med([f["stages"].get(s) for f in warm_fits]) for s in STAGES if s != "total"}
        stages["total"] = med([f["total_s"] for f in warm_fits])
        tv = parse_time_v(d / "run.time")
        rows.append({
            "system": "BERTopic 0.17.4",
            "setting": setting,
            "variant": "UMAP seed 42 (1 thread)" if umap_mode == "seeded" else "UMAP unseeded (default)",
            "score": load_json(d / "score.json") or {},
            "stages": stages,
            "first": fits[0]["total_s"] if fits else None,
            "warm": stages["total"] if len(fits) > 1 else None,
            "wall": tv.get("wall_s"),
            "rss": tv.get("peak_rss_mb", rep.get("peak_rss_mb")),
            "cpu": tv.get("cpu_pct"),
            "runs": len(fits),
            "deterministic": None,
            "n_docs": rep.get("settings", {}).get("n_docs"),
        })
    return rows


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    out = Path(argv[1])
    rows = collect(out)
    if not rows:
        print(f"no results under {out}")
        return 1
    machine = (out / "machine.txt").read_text() if (out / "machine.txt").exists() else ""
    print(f"## Fit benchmark ({out.name})\n")
    if machine:
        print("```\n" + machine.strip() + "\n```\n")
    print("### Quality (score.py)\n")
    print("| setting | system | variant | topics | outliers | NMI (all) | ARI (all) | NMI (non-outl.) | diversity | NPMI |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["setting"], r["system"] != "topic-engine", r["variant"])):
        s = r["score"]
        print(
            f"| {r['setting']} | {r['system']} | {r['variant']} | {s.get('n_topics', '—')} | "
            f"{fmt(100 * s['outlier_frac'] if 'outlier_frac' in s else None, '.1f')} % | "
            f"{fmt(s.get('nmi_all'), '.3f')} | {fmt(s.get('ari_all'), '.3f')} | {fmt(s.get('nmi_non_outlier'), '.3f')} | "
            f"{fmt(s.get('topic_diversity_top25'), '.3f')} | {fmt(s.get('npmi_top10_mean'), '.3f')} |"
        )
    print("\n### Time per stage (topic-engine: median of fresh-process runs; BERTopic: median of warm fits) and peak RSS\n")
    print("| setting | system | variant | kNN | UMAP | HDBSCAN | c-TF-IDF | reduction | other | total | BERTopic first fit | process wall | peak RSS | CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["setting"], r["system"] != "topic-engine", r["variant"])):
        st = r["stages"]
        first = fmt_s(r["first"]) if r["system"] != "topic-engine" else "n/a"
        print(
            f"| {r['setting']} | {r['system']} | {r['variant']} | "
            + " | ".join(fmt_s(st.get(s)) for s in STAGES)
            + f" | {first} | {fmt_s(r['wall'])} | {fmt(r['rss'], '.0f')} MB | {r['cpu'] or '—'} |"
        )
    print("\n### Speed-up of topic-engine (BERTopic time / topic-engine time, same machine, same run)\n")
    print("| setting | BERTopic variant | vs warm fit | vs first fit | UMAP(+kNN) stage |")
    print("|---|---|---|---|---|")
    for setting in sorted({r["setting"] for r in rows}):
        rust = next((r for r in rows if r["setting"] == setting and r["system"] == "topic-engine"), None)
        if not rust or not rust["warm"]:
            continue
        r_umap = (rust["stages"].get("umap") or 0) + (rust["stages"].get("knn") or 0)
        for py in (r for r in rows if r["setting"] == setting and r["system"] != "topic-engine"):
            p_umap = (py["stages"].get("umap") or 0) + (py["stages"].get("knn") or 0)
            ratio = lambda a, b: f"{a / b:.1f}×" if a and b else "—"  # noqa: E731
            print(
                f"| {setting} | {py['variant']} | {ratio(py['warm'], rust['warm'])} | "
                f"{ratio(py['first'], rust['warm'])} | {ratio(p_umap, r_umap)} |"
            )
    det = [r for r in rows if r["system"] == "topic-engine" and r["deterministic"] is not None]
    if det:
        print()
        for r in det:
            print(
                f"- topic-engine nr_topics={r['setting']}: {r['runs']} runs with seed 42 gave "
                f"{'identical' if r['deterministic'] else 'DIFFERENT'} assignments"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
