"""Speed of the evaluation on the real NSE data; prints a table.

Usage: .venv/bin/python bench/evaluate.py [--home DIR] [--model champion|VERSION] [--config tiny|default] [--start 2024-10-01] [--end 2024-10-31]
Targets (2-core machine): scoring one session of the NIFTY 50 through `score_daily` (what `evaluate` does per
session and per scored model) < 1.5 s, so six walk-forward years with the stack, no-veto and no-SMC runs
(3 x ~1,480 sessions) take < 2 hours; the simulation (`backtest`) of a full year of the momentum baseline < 2 s;
the CatBoost-on-TA scores of a year < 5 s.
Setup (not timed): the daily CSVs are ingested into a store under --home when it has none; in the default temporary
home `ensure_champion` trains a small bundle (--config networks, 1 epoch, fold 2024, on RELIANCE, TCS, INFY); a given
--home's registry is only read. That bootstrap bundle is trained without baselines, so the CatBoost-on-TA row needs
--home pointing at a home whose --model was trained by `aitrader train` (e.g. `--home . --model 2`).
"""
import argparse, logging, tempfile, time, warnings
import pandas as pd
from rich.console import Console
from rich.table import Table

warnings.filterwarnings("ignore")
logging.getLogger("mlflow").setLevel(logging.WARNING)
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
from aitrader.data.store import BarStore
from aitrader.signals.daily import HISTORY_DAYS
from aitrader.jobs.bootstrap import ensure_champion
from aitrader.data.universe import load_universe
from aitrader.eval.backtest import BacktestConfig, backtest, momentum_signals
from aitrader.eval.evaluate import evaluate
from aitrader.eval.scoring import load_model, catboost_ta_scores, score_range, sessions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default=None); ap.add_argument("--config", default="tiny"); ap.add_argument("--model", default="champion")
    ap.add_argument("--start", default="2024-10-01"); ap.add_argument("--end", default="2024-10-31")
    a = ap.parse_args()
    home = a.home or tempfile.mkdtemp(prefix="aitrader-bench-eval-")
    cfg = get_config({"AITRADER_HOME": home})
    if cfg.data_dir is None: raise SystemExit("no NSE data folder (AITRADER_DATA_DIR)")
    t0 = time.perf_counter()
    if not (cfg.cache_dir / "timeframe=1d").is_dir(): ingest(cfg, "csv", path=cfg.data_dir / "daily", timeframe="1d", progress=False)
    if a.home is None: ensure_champion(cfg, symbols=["RELIANCE", "TCS", "INFY"], config=a.config, verbose=False)  # never touch a given home's registry
    t_setup = time.perf_counter() - t0
    syms = load_universe("nifty50", cfg)
    b = load_model(a.model, cfg)
    s0, s1 = pd.Timestamp(a.start), pd.Timestamp(a.end)
    with BarStore(cfg, read_only=True) as st:
        have = sorted(set(syms) & set(st.symbols("1d")))
        bars = st.bars(have, "1d", start=s0 - pd.Timedelta(days=HISTORY_DAYS), end=s1)
        year = st.bars(have, "1d", start=pd.Timestamp("2022-06-01"), end=pd.Timestamp("2023-12-31"))
    bars = bars.sort_values(["symbol", "ts"]).reset_index(drop=True)
    year = year.sort_values(["symbol", "ts"]).reset_index(drop=True)
    n = len(sessions(bars, s0, s1))
    rows = []
    t = time.perf_counter(); sg = score_range(cfg, b, bars, s0, s1, have); dt = time.perf_counter() - t
    rows.append((f"score_daily per session, {len(have)} symbols ({n} sessions)", dt / n, 1.5, f"{len(sg['stack'])} rows"))
    lo, hi = (pd.Timestamp(x, tz="Asia/Kolkata") for x in ("2023-01-01", "2023-12-31"))
    sim = year[(year.ts >= lo) & (year.ts <= hi)].reset_index(drop=True)
    ms = momentum_signals(year); ms = ms[(ms.as_of >= lo) & (ms.as_of <= hi)]
    t = time.perf_counter(); r = backtest(sim, ms, BacktestConfig()); dt = time.perf_counter() - t
    rows.append((f"backtest, momentum 2023 ({len(ms)} signals)", dt, 2.0, f"{len(r.trades)} trades"))
    t = time.perf_counter(); cs = catboost_ta_scores(b, year, lo, hi); dt = time.perf_counter() - t
    rows.append(("catboost_ta scores 2023", dt, 5.0, "no baselines/catboost_ta.cbm in the bundle" if cs is None else f"{len(cs)} rows"))
    t = time.perf_counter()
    e = evaluate(s0, s1, cfg, model=b, symbols=have, ablations=("no_veto",))
    rows.append((f"evaluate() {a.start}..{a.end}, stack + no_veto + baselines", time.perf_counter() - t, None, f"{len(e.table)} strategies"))
    c = Console(width=150)
    tb = Table(title=f"evaluation speed, bundle {a.config} ({b.origin}); setup {t_setup:.0f} s (not timed)")
    for col in ("what", "seconds", "target s", "ok", "size"): tb.add_column(col)
    for w, sec, tgt, size in rows:
        tb.add_row(w, f"{sec:.2f}", "" if tgt is None else f"< {tgt:g}", "" if tgt is None else ("yes" if sec < tgt else "NO"), size)
    c.print(tb)


if __name__ == "__main__":
    main()
