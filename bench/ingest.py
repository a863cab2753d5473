"""Ingest and read speed of the bar store on the real NSE data; prints a table.

Usage: .venv/bin/python bench/ingest.py [--repeat 7]
Targets (2-core machine): all 50 daily CSVs ingested < 10 s; all 8 15m files ingested and 1h/4h built < 20 s;
all daily bars of 50 symbols for 2012-2024 read back from DuckDB < 200 ms (median of --repeat reads).
Runs in a temporary AITRADER_HOME; the data is read from AITRADER_DATA_DIR (default ../shared/data/nse).
"""
import argparse, os, resource, statistics, sys, tempfile, time
from rich.console import Console
from rich.table import Table
from aitrader.config import get_config
from aitrader.data.ingest import ingest
from aitrader.data.store import BarStore


def main(repeat: int = 7) -> int:
    base = get_config()
    if base.data_dir is None:
        print("SKIP: no NSE data folder (set AITRADER_DATA_DIR)"); return 0
    rows = []
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
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tab = Table(title=f"bench/ingest.py ({os.cpu_count()} CPUs)")
    for c in ["step", "seconds", "target", "ok", "detail"]: tab.add_column(c)
    ok_all = True
    for step, sec, target, detail in rows:
        ok = None if target is None else sec < target
        ok_all &= ok is not False
        tab.add_row(step, f"{sec:.3f}", "" if target is None else f"< {target:g}", "" if ok is None else ("yes" if ok else "NO"), detail)
    tab.add_row("peak RSS", f"{rss:.0f} MiB", "", "", "resource.getrusage ru_maxrss")
    Console(width=160).print(tab)
    return 0 if ok_all else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="reads for the median read time")
    sys.exit(main(ap.parse_args().repeat))
