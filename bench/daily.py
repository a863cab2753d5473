"""Speed of the daily job on the real NSE data; prints a table.

Usage: .venv/bin/python bench/daily.py [--home DIR] [--config tiny|default] [--repeat 3]
Targets (2-core machine): the daily job for the NIFTY 50 end to end including papermill (`jobs.run('daily')`: lock, kernel
start, imports, champion load, scoring, charts, staging, one-transaction publish) < 60 s; the library's scoring part,
bars to stored signals (`score_daily` reading the bar store + `publish_signals`), < 10 s for the 50 symbols and < 30 s
for 500 (the 50 real daily series of the data folder replicated 10 times under new names; their bars are handed over in memory, so the 500 row leaves
out the store read, which the 50 row includes).
Setup (not timed): the daily and 15-minute CSVs are ingested into a store under --home (a temporary folder by default),
and `ensure_champion` trains a small bundle (--config networks, 1 epoch, fold 2024, on RELIANCE, TCS, INFY) when the
registry there has none. Library times are the median of --repeat runs after one warm-up run (the cold run is shown).
"""
import argparse, logging, statistics, tempfile, time, warnings
from pathlib import Path
import pandas as pd
from rich.console import Console
from rich.table import Table

warnings.filterwarnings("ignore")
logging.getLogger("mlflow").setLevel(logging.WARNING)
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
from aitrader.jobs.catalog import run
from aitrader.data.window import last_trading_day
from aitrader.signals.daily import read_bars, score_daily
from aitrader.data.universe import load_universe
from aitrader.signals.store import SignalStore
from aitrader.jobs.bootstrap import ensure_champion
from aitrader.train.registry import load_champion


def setup(home: str, config: str):
    cfg = get_config({"AITRADER_HOME": home})
    if cfg.data_dir is None: raise SystemExit("no NSE data folder (AITRADER_DATA_DIR)")
    if not (cfg.cache_dir / "timeframe=1d").is_dir():
        for tf, folder in (("1d", "daily"), ("15m", "intraday_15m")):
            ingest(cfg, "csv", path=cfg.data_dir / folder, timeframe=tf, progress=False)
    ensure_champion(cfg, symbols=["RELIANCE", "TCS", "INFY"], config=config, verbose=True)
    return cfg


def score_and_store(cfg, bundle, day, universe, **kw):
    "score_daily + a recorded run + publish_signals; seconds and the score."
    t0 = time.perf_counter()
    s = score_daily(cfg, bundle, day, universe, **kw)
    t1 = time.perf_counter()
    st = SignalStore(cfg)
    with st.run("bench", day) as rid: st.publish_signals(rid, day, s.signals)
    s.timings["store"] = time.perf_counter() - t1
    return time.perf_counter() - t0, s


def replicate(bars: pd.DataFrame, intra: dict | None, k: int):
    "The frames with every symbol copied k times under new names (S, S_R1, ..., S_R{k-1})."
    names = lambda df, i: df.assign(symbol=df.symbol + ("" if i == 0 else f"_R{i}"))
    b = pd.concat([names(bars, i) for i in range(k)], ignore_index=True).sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)
    it = None if intra is None else {tf: pd.concat([names(v, i) for i in range(k)], ignore_index=True)
                                     .sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True) for tf, v in intra.items()}
    return b, it


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default=None); ap.add_argument("--config", default="tiny"); ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    home = a.home or tempfile.mkdtemp(prefix="aitrader-bench-daily-")
    t0 = time.perf_counter(); cfg = setup(home, a.config); t_setup = time.perf_counter() - t0
    syms = load_universe("nifty50", cfg)
    day = last_trading_day(cfg, syms)
    bundle = load_champion("dev", cfg)
    rows = []
    # library: 50 symbols from the store
    cold, s50 = score_and_store(cfg, bundle, day, "nifty50")
    warm = [score_and_store(cfg, bundle, day, "nifty50")[0] for _ in range(a.repeat)]
    rows.append(("library: bars -> stored signals, NIFTY 50 (store read)", s50.counts["symbols_in"], s50.counts["passed_screen"],
                 s50.counts["scored"], statistics.median(warm), cold, 10.0))
    steps50 = score_and_store(cfg, bundle, day, "nifty50")[1].timings
    # library: 500 replicated symbols (bars in memory)
    from aitrader.data.store import BarStore
    with BarStore(cfg, read_only=True) as st: stored = st.symbols("1d")   # the 50 real daily series
    bars, intra = read_bars(cfg, stored, day)
    b500, i500 = replicate(bars, intra, 10)
    u500 = sorted(b500.symbol.unique())
    cold5, s500 = score_and_store(cfg, bundle, day, u500, bars=b500, intraday=i500)
    warm5 = [score_and_store(cfg, bundle, day, u500, bars=b500, intraday=i500)[0] for _ in range(a.repeat)]
    rows.append(("library: bars -> stored signals, 500 replicated (bars in memory)", len(u500), s500.counts["passed_screen"],
                 s500.counts["scored"], statistics.median(warm5), cold5, 30.0))
    steps500 = score_and_store(cfg, bundle, day, u500, bars=b500, intraday=i500)[1].timings
    # end to end through papermill
    r = run("daily", {"run_date": str(day.date()), "universe": "nifty50"}, cfg)
    if not r.ok: raise SystemExit(f"daily job failed: {r.error}")
    rows.append(("job: jobs.run('daily') NIFTY 50 end to end (papermill)", r.glued["symbols_in"], r.glued["passed_screen"],
                 r.glued["n_buy"] + r.glued["n_sell"] + r.glued["n_hold"], r.seconds, None, 60.0))
    c = Console(width=150)
    t = Table(title=f"daily job, as of {day.date()}, bundle {a.config} ({bundle.origin}); setup {t_setup:.0f} s (not timed)")
    for col in ("what", "symbols in", "passed screen", "signals", "seconds", "cold s", "target s", "ok"): t.add_column(col)
    for w, n, p, k, sec, cs, tgt in rows:
        t.add_row(w, str(n), str(p), str(k), f"{sec:.2f}", "" if cs is None else f"{cs:.2f}", f"< {tgt:g}", "yes" if sec < tgt else "NO")
    c.print(t)
    c.print("steps, 50 (s):", {k: round(v, 2) for k, v in steps50.items()})
    c.print("steps, 500 (s):", {k: round(v, 2) for k, v in steps500.items()})
    c.print(f"job: notebook-measured {r.glued['duration_s']:.1f} s of {r.seconds:.1f} s (the rest: kernel start, papermill, publish); "
            f"BUY {r.glued['n_buy']} SELL {r.glued['n_sell']} HOLD {r.glued['n_hold']}; errors {r.glued['n_errors']}")


if __name__ == "__main__":
    main()
