"""Score and publish the daily signals of every session in [start, end] in one process (the champion loaded once).

Usage: AITRADER_HOME=... python scripts/desk_signals.py 2024-10-01 2024-10-31 [universe]
Same library path as the daily job (`score_daily` -> `prepare_signals` -> `publish_signals` under a `runs` row),
without papermill's kernel start per date.
"""
import sys, time
import pandas as pd
from aitrader.core.config import get_config
from aitrader.core.calendar import nse_sessions
from aitrader.signals.daily import score_daily
from aitrader.signals.store import SignalStore
from aitrader.train.registry import load_stack

start, end = sys.argv[1], sys.argv[2]
universe = sys.argv[3] if len(sys.argv) > 3 else "nifty50"
cfg = get_config(); store = SignalStore(cfg)
stack = load_stack(cfg.mode, cfg)
for d in nse_sessions(start, end):
    t = time.perf_counter()
    sc = score_daily(cfg, stack, d, universe)
    sig = sc.signals.drop(columns=["score"], errors="ignore")
    rid = store.start_run("daily", d.date(), notebook="scripts/desk_signals.py")
    try:
        pub = store.publish_signals(rid, d.date(), sig, drop_events=True)
        store.finish_run(rid, "success", counts=sc.counts, model_version=sc.model_version)
    except Exception as e:
        store.finish_run(rid, "failed", errors={"_run": str(e)}); raise
    print(f"{d:%Y-%m-%d} {sc.counts} {pub} {time.perf_counter() - t:.1f}s", flush=True)
