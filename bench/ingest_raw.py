"""Ingest of the raw NSE files (nse/nifty500_raw, 496 symbols) and the liquid200 feature table; prints a table.

Usage: .venv/bin/python bench/ingest_raw.py [--skip-features]
Targets (2-core machine, issue 23): ingest of the 496 files < 180 s with peak RSS < 4 GiB; the context feature table
(TA + SMC + multi-timeframe context, `aitrader.features.context.build_context`) of the point-in-time liquid200
universe (members re-ranked on the first session of each year 2005..2024, features of the union of members over
their whole history, then the rows of the years each symbol was a member) < 10 min with peak RSS < 8 GiB.
Each step runs in a fresh process (its own peak RSS) on a temporary AITRADER_HOME; the second ingest of the same
files shows that nothing changes. Data: AITRADER_DATA_DIR (default ../shared/data/nse).
"""
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path
from rich.console import Console
from rich.table import Table
from rich.markup import escape
from aitrader.core.config import get_config

_INGEST = """
import json, resource, sys, time
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
t = time.perf_counter()
r = ingest(get_config(), "csv", sys.argv[1], "1d", progress=False)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(s=time.perf_counter() - t, rss=rss, new=r.total("new"), read=r.total("read"),
                      quarantined=r.total("quarantined"), quarantine_new=r.total("quarantine_new"), status=r.status,
                      actions=r.actions, by_rule=r.rejected)))
"""

_FEATURES = """
import json, resource, time
import numpy as np, pandas as pd
from aitrader.core.config import get_config
from aitrader.data.store import BarStore
from aitrader.data.pit_universe import universe_at_rebalances
from aitrader.features.context import build_context
t = time.perf_counter()
with BarStore(get_config()) as st: bars = st.bars(None, "1d", start="2004-01-01", end="2024-12-31")
t_read = time.perf_counter() - t
dates = [f"{y}-01-01" for y in range(2005, 2025)]
m = universe_at_rebalances("liquid200", dates, bars=bars)
syms = sorted(m.symbol.unique())
b = bars[bars.symbol.isin(syms)].reset_index(drop=True)
t_u = time.perf_counter() - t - t_read
cx = build_context(b)
f = cx.features
yr = f.ts.dt.year.astype(str) + "-01-01"
keep = pd.MultiIndex.from_arrays([f.symbol, yr]).isin(pd.MultiIndex.from_arrays([m.symbol, m.date]))
f = f[keep & (f.ts >= pd.Timestamp("2005-01-01", tz="Asia/Kolkata"))]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(s=time.perf_counter() - t, read=t_read, universe=t_u, rss=rss, symbols=len(syms), bars=len(b),
                      rows=len(f), cols=int(f.shape[1]))))
"""


def run(code: str, env: dict, *args) -> dict:
    "Run `code` in a fresh interpreter; its last stdout line as JSON."
    p = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if p.returncode: raise RuntimeError(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(skip_features: bool = False) -> int:
    cfg = get_config()
    raw = cfg.data_dir / "nifty500_raw" if cfg.data_dir is not None else None
    if raw is None or not raw.is_dir():
        print("SKIP: no nse/nifty500_raw folder (set AITRADER_DATA_DIR)"); return 0
    rows = []
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "AITRADER_HOME": str(Path(d) / "home"), "OMP_NUM_THREADS": "1",
               "MLFLOW_DISABLE_TELEMETRY": "true"}
        a = run(_INGEST, env, str(raw))
        rules = " ".join(f"{k}={v}" for k, v in sorted(a["by_rule"].items()))
        rows.append(("ingest 496 raw files (first)", a["s"], 180, a["rss"], 4096,
                     f"{a['status']}: read {a['read']:,}, stored {a['new']:,}, "
                     f"quarantined {a['quarantined']:,} [{rules}]; "
                     f"{a['actions']} actions"))
        b = run(_INGEST, env, str(raw))
        rows.append(("ingest again (same files)", b["s"], None, b["rss"], None,
                     f"{b['status']}: new {b['new']}, quarantine_new {b['quarantine_new']}"))
        if not skip_features:
            f = run(_FEATURES, env)
            rows.append(("liquid200 context feature table 2005-2024", f["s"], 600, f["rss"], 8192,
                         f"{f['symbols']} member symbols ({f['bars']:,} bars, read {f['read']:.1f} s, "
                         f"universe {f['universe']:.1f} s); "
                         f"{f['rows']:,} member rows x {f['cols']} columns"))
    tab = Table(title=f"bench/ingest_raw.py ({os.cpu_count()} CPUs; each step a fresh process)")
    for c in ["step", "seconds", "target s", "peak RSS MiB", "target MiB", "ok", "detail"]: tab.add_column(c)
    for name, s, ts, rss, tr, det in rows:
        ok = "" if ts is None else ("yes" if s < ts and rss < tr else "NO")
        tab.add_row(name, f"{s:.1f}", "" if ts is None else str(ts), f"{rss:.0f}", "" if tr is None else str(tr), ok,
                    escape(det))
    Console(width=220).print(tab)
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-features", action="store_true")
    sys.exit(main(p.parse_args().skip_features))
