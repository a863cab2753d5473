"""Latency of the events fast path: one new announcement line -> parsed, tagged, stored event -> updated trade cards.

Usage: .venv/bin/python bench/events_fastpath.py [--lines 300] [--tagger tfidf-lr]
On a temporary AITRADER_HOME: the real daily bars of six NIFTY symbols, two funded desk accounts, TEST signals (never
model output) for those symbols on 2024-10-14 and their PENDING cards (12); the real bulletins of 16 and 17 December
2025 ingested first (the learned tagger's training data). Then the announcement records of an18122025.txt are fed one
at a time to `FastPath.on_line` (each as a line arriving on 2024-10-14, the cards' session), up to --lines of them,
plus every real line of the six symbols from the three files (those concern the cards). Prints the cold start (fitting
the tagger), and per group of lines the median, p95 and max milliseconds of each step and of the whole path.
Goal: line -> card < 5 s (5,000 ms) for every line. DuckDB backend; single process.
"""

import argparse, os, sys, tempfile, time
from pathlib import Path
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

SYMS = ["TCS", "INFY", "SBIN", "COALINDIA", "POWERGRID", "HINDUNILVR"]
DAY = "2024-10-14"


def setup(cfg, data_dir):
    "Bars, two accounts, TEST signals and their cards; the bulletins of the first two days."
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_events_bulletin import desk_with_cards  # the tests' own fixture code, TEST rows only
    from aitrader.desk.bulletin_store import ingest_bulletin

    cards = desk_with_cards(cfg, data_dir, DAY, SYMS, SYMS)
    bul = data_dir / "bulletin"
    ingest_bulletin(
        cfg, [bul / f for f in ("an16122025.txt", "an17122025.txt", "bc16122025.csv", "bm16122025.txt")], "rules"
    )
    return cards, bul


def lines(bul, n):
    "(group, src_file, src_line, text): the first n records of an18 and every record of the six symbols."
    from aitrader.desk.bulletin import records

    out = []
    for f in ("an16122025.txt", "an17122025.txt", "an18122025.txt"):
        for ln, _, t in records((bul / f).read_bytes()):
            hit = any(f" {s} : " in t for s in SYMS)
            if hit:
                out.append(("concerns cards", f, ln, t))
            elif f == "an18122025.txt" and len([o for o in out if o[0] != "concerns cards"]) < n:
                out.append(("other", f, ln, t))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--tagger", default=None, help="rules | tfidf-lr (default: DEFAULT_TAGGER)")
    a = ap.parse_args()
    os.environ["AITRADER_HOME"] = tempfile.mkdtemp(prefix="bench-events-")
    from aitrader.core.config import get_config
    from aitrader.desk.fastpath import FastPath

    cfg = get_config()
    if cfg.data_dir is None or not (cfg.data_dir / "bulletin").is_dir():
        sys.exit("SKIP: no NSE data folder with bulletin/ (AITRADER_DATA_DIR)")
    t = time.perf_counter()
    cards, bul = setup(cfg, cfg.data_dir)
    setup_s = time.perf_counter() - t
    fp = FastPath(cfg, a.tagger)
    rows = []
    for g, f, ln, text in lines(bul, a.lines):
        r = fp.on_line(text, DAY, f, ln)
        kind = "quarantined" if r["quarantine"] else ("set aside (MF NAV)" if r["aside"] else g)
        rows.append(dict(group=kind, noted=len(r["cards"]), **r["ms"]))
    df = pd.DataFrame(rows)
    c = Console(width=160)
    c.print(
        f"setup {setup_s:.1f} s: {len(cards)} PENDING cards; tagger {fp.tagger.name} fitted in {fp.fit_ms:,.0f} ms "
        "(cold start, once per process)"
    )
    tab = Table(title=f"events fast path, ms per line ({DAY} session, DuckDB)")
    for col in [
        "lines",
        "group",
        "cards noted",
        "parse p50",
        "tag p50",
        "store p50",
        "cards p50",
        "total p50",
        "total p95",
        "total max",
    ]:
        tab.add_column(col, justify="right")
    for g, x in [("all", df), *df.groupby("group")]:
        q = lambda s, p: f"{np.percentile(x[s], p):,.1f}"
        tab.add_row(
            str(len(x)),
            g,
            str(int(x.noted.sum())),
            q("parse", 50),
            q("tag", 50),
            q("store", 50),
            q("cards", 50),
            q("total", 50),
            q("total", 95),
            f"{x.total.max():,.1f}",
        )
    c.print(tab)
    worst = df.total.max()
    c.print(
        f"goal line -> card < 5,000 ms: {'met' if worst < 5000 else 'NOT met'} "
        f"(worst {worst:,.0f} ms over {len(df)} lines)"
    )


if __name__ == "__main__":
    main()
