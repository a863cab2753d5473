"""Speed and memory of the feature layer on the real NSE data; prints a table.

Usage: .venv/bin/python bench/features.py [--repeat 3]
Targets (2-core machine): every feature (TA, SMC, multi-timeframe, context 29, ohlcv_120 windows) for the 50 daily
symbols 2012-2024 plus the 4H/1H bars of the 8 intraday symbols < 10 s; the incremental update for one new day over
500 symbols (the 50 real ones replicated under new names, intraday ones included) < 2 s.
Bars are read through the bar layer (read, validate, resample) before the clock starts; times are the median of
--repeat runs after one warm-up call (numba kernels are compiled and cached on first use; the cold time is shown).
Peak memory: tracemalloc peak of each step (a separate pass) and the process peak RSS. "cpu s" is the CPU time of all
threads (process_time): when the machine is shared, wall time above cpu time means waiting for a core.
"""
import argparse, os, resource, statistics, sys, time, tracemalloc
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from aitrader.core.config import get_config
from aitrader.data.csv_source import read_csv_folder
from aitrader.data.validate import validate_bars
from aitrader.data.resample import resample_intraday
from aitrader.features.normalize import ohlcv_windows
from aitrader.features.ta import ta_vector, ta_frame
from aitrader.features.mtf import mtf_vector
from aitrader.features.context import build_context, model_inputs, CONTEXT_FEATURES

try:
    from aitrader.features.smc import smc_vector
except ImportError:  # the context import above needs it anyway; kept for clarity
    smc_vector = None

COLS = ["symbol", "ts", "open", "high", "low", "close", "volume"]


def load(data_dir):
    "Daily bars 2012-2024 of the 50 symbols and the 15m bars of the 8 intraday symbols, validated."
    d, _ = validate_bars(read_csv_folder(data_dir / "daily", progress=False).bars, "1d")
    d = d[(d.ts >= pd.Timestamp("2012-01-01", tz="Asia/Kolkata")) & (d.ts < pd.Timestamp("2025-01-01", tz="Asia/Kolkata"))]
    i, _ = validate_bars(read_csv_folder(data_dir / "intraday_15m", progress=False).bars, "15m")
    return d[COLS].sort_values(["symbol", "ts"]).reset_index(drop=True), i[COLS].sort_values(["symbol", "ts"]).reset_index(drop=True)


def replicate(bars, k):
    "k copies of `bars` under new symbol names SYMBOL~0 .. SYMBOL~k-1, sorted by symbol, ts."
    out = pd.concat([bars.assign(symbol=bars.symbol + f"~{j}") for j in range(k)], ignore_index=True)
    return out.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)


def timed(fn, repeat):
    "(median wall seconds, cold seconds of the first call, result, median CPU seconds of all threads)."
    t = time.perf_counter(); r = fn(); cold = time.perf_counter() - t
    ts, cs = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); r = fn()
        ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    return statistics.median(ts), cold, r, statistics.median(cs)


def peak_mb(fn):
    "tracemalloc peak (MiB) of one call."
    tracemalloc.start(); fn(); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    return peak / 2**20


def main(repeat: int = 3) -> int:
    cfg = get_config()
    if cfg.data_dir is None:
        print("SKIP: no NSE data folder (set AITRADER_DATA_DIR)"); return 0
    t = time.perf_counter(); daily, i15 = load(cfg.data_dir); t_load = time.perf_counter() - t
    steps = {}
    steps["resample 15m -> 4H + 1H (8 symbols)"] = (lambda: {"4h": resample_intraday(i15, "4h"), "1h": resample_intraday(i15, "1h")}, None)
    intra = steps["resample 15m -> 4H + 1H (8 symbols)"][0]()
    steps["TA research frame (18 indicators)"] = (lambda: ta_frame(daily), None)
    steps["TA vector 12"] = (lambda: ta_vector(daily), None)
    steps["MTF vector 5 + masks"] = (lambda: mtf_vector(daily, intra["4h"], intra["1h"]), None)
    if smc_vector is not None: steps["SMC vector 12"] = (lambda: smc_vector(daily), None)
    steps["context 29 (TF 5 + SMC 12 + TA 12)"] = (lambda: build_context(daily, intra), None)
    steps["ohlcv_120 windows, every bar"] = (lambda: ohlcv_windows(daily), None)

    rows, res = [], {}
    for name, (fn, _) in steps.items():
        med, cold, r, cpu = timed(fn, repeat); res[name] = r
        rows.append([name, med, cpu, cold, peak_mb(fn), None, ""])
    ctx, win = res["context 29 (TF 5 + SMC 12 + TA 12)"], res["ohlcv_120 windows, every bar"]
    total = sum(r[1] for r in rows if r[0] in ("resample 15m -> 4H + 1H (8 symbols)", "context 29 (TF 5 + SMC 12 + TA 12)",
                                                 "ohlcv_120 windows, every bar"))
    rows[[r[0] for r in rows].index("context 29 (TF 5 + SMC 12 + TA 12)")][6] = \
        f"{len(ctx.features):,} vectors; excluded {ctx.excluded.reason.str.split(':').str[0].value_counts().to_dict()}"
    rows[[r[0] for r in rows].index("ohlcv_120 windows, every bar")][6] = f"{win.x.shape[0]:,} x {win.x.shape[1:]} float32, {win.x.nbytes / 2**20:.0f} MiB"
    cpu_total = sum(r[2] for r in rows if r[0] in ("resample 15m -> 4H + 1H (8 symbols)", "context 29 (TF 5 + SMC 12 + TA 12)",
                                                     "ohlcv_120 windows, every bar"))
    rows.append(["ALL features, 50 daily + 8 intraday (resample + context + windows)", total, cpu_total, None, None, 10.0,
                 f"{daily.symbol.nunique()} symbols, {len(daily):,} daily bars, {len(i15):,} 15m bars"])

    # incremental: 500 symbols, one new day (the last session) on top of the history
    big = replicate(daily, 10)
    bi = {k: replicate(v, 10) for k, v in intra.items()}
    last_day = big.ts.max()

    incremental = lambda: model_inputs(big, bi, last_only=True)
    med, cold, mi, cpu = timed(incremental, repeat)
    rows.append(["incremental: one new day, 500 symbols (context + windows)", med, cpu, cold, peak_mb(incremental), 2.0,
                 f"{len(mi.context)} context vectors + ohlcv_120 windows on {last_day.date()}"])
    # the incremental last bar equals the full computation's last bar (50 real symbols)
    full_last = ctx.features.groupby("symbol").tail(1).set_index("symbol")[CONTEXT_FEATURES]
    c = pd.DataFrame(mi.context, columns=CONTEXT_FEATURES).assign(symbol=mi.index.symbol.to_numpy())
    inc = c.assign(base=c.symbol.str.split("~").str[0]).groupby("base").head(1).set_index("base")[CONTEXT_FEATURES]
    err = float(np.abs(inc.loc[full_last.index].to_numpy() - full_last.to_numpy()).max())
    rows[-1][6] += f"; max |incremental - full| {err:.1e}"
    # the same with a 1200-bar SMC tail (an approximation, see nbs/24_features.context.ipynb)
    inc_t = lambda: build_context(big, bi, last_only=True, smc_tail=1200)
    med2, _, c2, cpu2 = timed(inc_t, repeat)
    e2 = float(np.abs(c2.features[CONTEXT_FEATURES].to_numpy() - mi.context).max())
    rows.append(["incremental with smc_tail=1200 (approximate SMC)", med2, cpu2, None, None, 2.0, f"max |diff| vs exact {e2:.1e}"])
    if smc_vector is not None:
        m3, _, _, cpu3 = timed(lambda: smc_vector(big), repeat)
        rows.append(["  for scale: SMC vector alone, 500 symbols full history", m3, cpu3, None, None, None, f"{len(big):,} bars"])

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tab = Table(title=f"bench/features.py ({os.cpu_count()} CPUs; bars loaded in {t_load:.1f}s, not timed; median of {repeat})")
    for col in ["step", "seconds", "cpu s", "cold s", "peak MiB", "target s", "ok", "detail"]: tab.add_column(col)
    for name, s, cpu, cold, mb, target, detail in rows:
        ok = "" if target is None else ("yes" if s < target else "NO")
        tab.add_row(name, f"{s:.3f}", f"{cpu:.2f}", "" if cold is None else f"{cold:.2f}", "" if mb is None else f"{mb:.0f}",
                    "" if target is None else f"{target:g}", ok, detail)
    Console(width=200).print(tab)
    print(f"process peak RSS: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    sys.exit(main(p.parse_args().repeat))
