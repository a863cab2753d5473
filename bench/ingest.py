"""Ingest and read speed of the bar store on the real NSE data; prints a table.

Usage: .venv/bin/python bench/ingest.py [--repeat 7] [--big-mb 200] [--only-big]
Targets (2-core machine): all 50 daily CSVs ingested < 10 s; all 8 15m files ingested and 1h/4h built < 20 s;
all daily bars of 50 symbols for 2012-2024 read back from DuckDB < 200 ms (median of --repeat reads);
a generated 200 MB 15-minute file (about 3 M rows, 45 symbols 2014-2024, broker style with +05:30 stamps)
ingested in a fresh process < 60 s with that process's peak memory < 1.5 GB (issue 12).
Runs in a temporary AITRADER_HOME; the data is read from AITRADER_DATA_DIR (default ../shared/data/nse).
"""
import argparse, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
from rich.console import Console
from rich.table import Table
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
from aitrader.data.store import BarStore


def make_big_15m(path: Path, mb: float = 200, seed: int = 0) -> int:
    "Write a synthetic multi-symbol 15-minute CSV of about `mb` MB (symbol,date,open,high,low,close,volume); returns its rows."
    import pyarrow as pa, pyarrow.csv as pcsv
    from aitrader.core.calendar import nse_sessions
    rng = np.random.default_rng(seed)
    days = nse_sessions("2014-01-01", "2024-10-31").to_numpy("datetime64[m]")
    stamps = (days[:, None] + (np.arange(25) * 15 + 555).astype("timedelta64[m]")[None, :]).ravel()
    ts = np.char.replace(np.char.add(np.datetime_as_string(stamps, unit="s").astype("U19"), "+05:30"), "T", " ")
    n_sym, parts = max(1, int(mb * 1e6 / (len(stamps) * 66))), []
    for k in range(n_sym):
        c = np.round(100 * (1 + k / 10) * np.exp(np.cumsum(rng.normal(0, 0.002, len(stamps)))), 2)
        o = np.round(np.r_[c[0], c[:-1]], 2)
        parts.append(pa.table({"symbol": pa.array(np.full(len(c), f"SYM{k:03d}")), "date": pa.array(ts), "open": o,
                               "high": np.round(np.maximum(o, c) * 1.001, 2), "low": np.round(np.minimum(o, c) * 0.999, 2),
                               "close": c, "volume": rng.integers(1000, 100000, len(c))}))
    pcsv.write_csv(pa.concat_tables(parts), path, write_options=pcsv.WriteOptions(quoting_style="none"))
    return n_sym * len(stamps)

_BIG = """
import resource, sys, time
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
t = time.perf_counter()
r = ingest(get_config(), "csv", sys.argv[1], "15m", progress=False)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, r.total("new"), r.total("quarantined"), r.status)
"""

def big_file_row(mb: float = 200) -> tuple:
    "The streaming case: generate the file, ingest it in a fresh process (its own peak memory), remove it."
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "BIG_15minute.csv"
        n = make_big_15m(f, mb)
        size = f.stat().st_size / 1e6
        env = {**os.environ, "AITRADER_HOME": str(Path(d) / "home"), "OMP_NUM_THREADS": "1"}
        p = subprocess.run([sys.executable, "-c", _BIG, str(f)], env=env, capture_output=True, text=True)
        if p.returncode: raise RuntimeError(p.stderr[-2000:])
        sec, rss, new, quar, status = p.stdout.split()
    return (f"ingest a {size:.0f} MB 15m file ({n:,} rows)", float(sec), 60.0,
            f"{status}: {int(new):,} bars stored, {int(quar):,} quarantined; peak memory {float(rss):.0f} MiB (target < 1536)",
            float(rss) < 1536)

def main(repeat: int = 7, big_mb: float = 200, only_big: bool = False) -> int:
    base = get_config()
    rows = []
    if base.data_dir is None or only_big:
        if base.data_dir is None: print("no NSE data folder (set AITRADER_DATA_DIR): only the generated-file case")
        return _print(rows + [big_file_row(big_mb)])
    with tempfile.TemporaryDirectory() as home:
        cfg = get_config({"AITRADER_HOME": home, "AITRADER_DATA_DIR": str(base.data_dir)})
        t = time.perf_counter(); r = ingest(cfg, "csv", cfg.data_dir / "daily", "1d", progress=False)
        rows.append(("ingest 50 daily CSVs", time.perf_counter() - t, 10.0,
                     f"{r.symbols} symbols, {r.total('new')} bars, {r.total('quarantined')} quarantined"))
        t = time.perf_counter(); r2 = ingest(cfg, "csv", cfg.data_dir / "daily", "1d", progress=False)
        rows.append(("re-ingest daily (idempotent)", time.perf_counter() - t, None,
                     f"new {r2.total('new')}, unchanged {r2.total('unchanged')}"))
        t = time.perf_counter()
        r = ingest(cfg, "csv", cfg.data_dir / "intraday_15m", "15m", progress=False)
        with BarStore(cfg) as st:
            h1, h4 = st.bars(None, "1h"), st.bars(None, "4h")
        rows.append(("ingest 8 15m files + build 1h/4h", time.perf_counter() - t, 20.0,
                     f"{r.symbols} symbols, {r.total('new')} 15m bars -> {len(h1)} 1h, {len(h4)} 4h bars"))
        with BarStore(cfg) as st:
            t = time.perf_counter(); b = st.bars(None, "1d", "2012-01-01", "2024-12-31"); cold = time.perf_counter() - t
            times = []
            for _ in range(repeat):
                t = time.perf_counter(); b = st.bars(None, "1d", "2012-01-01", "2024-12-31"); times.append(time.perf_counter() - t)
            rows.append(("read daily 2012-2024, 50 symbols (median)", statistics.median(times), 0.2,
                         f"{len(b)} bars, {b.symbol.nunique()} symbols; first read {cold * 1000:.0f} ms"))
            t = time.perf_counter(); w = st.bars(None, "1W"); m = st.bars(None, "1M")
            rows.append(("build 1W + 1M, all daily history", time.perf_counter() - t, None, f"{len(w)} weekly, {len(m)} monthly bars"))
        if (cfg.data_dir / "bhavcopy").is_dir():
            t = time.perf_counter(); r = ingest(cfg, "bhavcopy", cfg.data_dir / "bhavcopy", "1d", extend=False, progress=False)
            rows.append(("ingest 5 bhavcopies (check-only over daily)", time.perf_counter() - t, None,
                         f"{r.symbols} symbols, new {r.total('new')}, conflicts {r.total('conflicts')}"))
    rows.append(big_file_row(big_mb))
    return _print(rows)

def _print(rows) -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tab = Table(title=f"bench/ingest.py ({os.cpu_count()} CPUs)")
    for c in ["step", "seconds", "target", "ok", "detail"]: tab.add_column(c)
    ok_all = True
    for step, sec, target, detail, *extra in rows:
        ok = None if target is None else (sec < target and all(extra))
        ok_all &= ok is not False
        tab.add_row(step, f"{sec:.3f}", "" if target is None else f"< {target:g}", "" if ok is None else ("yes" if ok else "NO"), detail)
    tab.add_row("peak RSS (this process)", f"{rss:.0f} MiB", "", "", "resource.getrusage ru_maxrss")
    Console(width=160).print(tab)
    return 0 if ok_all else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="reads for the median read time")
    ap.add_argument("--big-mb", type=float, default=200, help="size of the generated 15-minute file")
    ap.add_argument("--only-big", action="store_true", help="run only the generated-file case")
    a = ap.parse_args()
    sys.exit(main(a.repeat, a.big_mb, a.only_big))
