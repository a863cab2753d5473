"""Cross-check of `aitrader.features.alpha.alpha158` against qlib's own expression engine on three NIFTY 50 symbols.

Two steps, two virtual environments (pyqlib 0.9.7 pins conflict with the project's, so it lives in its own venv):
  1. project venv:  .venv/bin/python bench/qlib_xcheck.py dump WORKDIR
     writes the three symbols' daily bars in qlib's binary layout (calendars/day.txt, instruments/all.txt,
     features/<sym>/<field>.day.bin: float32, first value = calendar offset) and our Alpha158 values (ours.csv).
  2. qlib venv:     /tmp/qlibenv/bin/python bench/qlib_xcheck.py compare WORKDIR [OUT.csv]
     computes qlib's Alpha158 fields (`Alpha158DL.get_feature_config()`, `$vwap` = (H+L+C)/3) with `D.features` and
     prints the largest absolute difference per feature over rows where both are defined, after each symbol's first
     60 bars (qlib's rolling windows use min_periods=1, ours are full windows).
"""
import sys
from pathlib import Path
import numpy as np
import pandas as pd

SYMBOLS = ["RELIANCE", "HDFCBANK", "INFY"]
START, END = "2019-01-01", "2024-11-22"


def dump(work: Path):
    from aitrader.data.store import BarStore
    from aitrader.features.alpha import alpha158
    work.mkdir(parents=True, exist_ok=True)
    with BarStore(read_only=True) as st: bars = st.bars(SYMBOLS, start=START, end=END)
    if bars.empty: raise SystemExit("no bars in the store: run `aitrader ingest --source csv --path .../daily --timeframe 1d` first")
    bars["vwap"] = (bars.high + bars.low + bars.close) / 3
    cal = np.sort(bars.ts.dt.strftime("%Y-%m-%d").unique())
    (work / "calendars").mkdir(exist_ok=True); (work / "instruments").mkdir(exist_ok=True)
    (work / "calendars" / "day.txt").write_text("\n".join(cal) + "\n")
    pos = {d: i for i, d in enumerate(cal)}
    lines = []
    for s, g in bars.groupby("symbol"):
        d = g.ts.dt.strftime("%Y-%m-%d").to_numpy()
        lines.append(f"{s}\t{d[0]}\t{d[-1]}")
        fd = work / "features" / s.lower(); fd.mkdir(parents=True, exist_ok=True)
        i0 = pos[d[0]]
        if pos[d[-1]] - i0 + 1 != len(d): raise SystemExit(f"{s}: missing days inside its span")
        for f in ("open", "high", "low", "close", "volume", "vwap"):
            np.r_[i0, g[f].to_numpy()].astype("<f4").tofile(fd / f"{f}.day.bin")
        for f in ("factor",): np.r_[i0, np.ones(len(g))].astype("<f4").tofile(fd / f"{f}.day.bin")
    (work / "instruments" / "all.txt").write_text("\n".join(lines) + "\n")
    # qlib stores float32: compute ours on the same float32-rounded bars
    b32 = bars.copy()
    for f in ("open", "high", "low", "close", "volume"): b32[f] = b32[f].astype(np.float32).astype(np.float64)
    ours = alpha158(b32[["symbol", "ts", "open", "high", "low", "close", "volume"]])
    ours["ts"] = ours.ts.dt.strftime("%Y-%m-%d")
    ours.to_csv(work / "ours.csv", index=False, float_format="%.10g")
    print(f"dumped {len(bars)} bars of {SYMBOLS} to {work}")


def compare(work: Path, out: Path | None):
    import qlib
    from qlib.data import D
    from qlib.contrib.data.loader import Alpha158DL
    qlib.init(provider_uri=str(work), region="cn", kernels=1)
    fields, names = Alpha158DL.get_feature_config()
    q = D.features([s.lower() for s in SYMBOLS], fields, start_time=START, end_time=END, freq="day")
    q.columns = names
    q = q.reset_index()
    q["symbol"] = q.instrument.str.upper(); q["ts"] = q.datetime.dt.strftime("%Y-%m-%d")
    ours = pd.read_csv(work / "ours.csv")
    m = ours.merge(q, on=["symbol", "ts"], suffixes=("", "_q"))
    m["pos"] = m.groupby("symbol").cumcount()
    m = m[m.pos >= 60]
    rows = []
    for n in names:
        a, b = m[n].to_numpy(float), m[n + "_q"].to_numpy(float)
        both = np.isfinite(a) & np.isfinite(b)
        d = np.abs(a[both] - b[both])
        rel = d / np.maximum(np.abs(b[both]), 1e-12)
        rows.append(dict(feature=n, n=int(both.sum()), only_ours=int((np.isfinite(a) & ~np.isfinite(b)).sum()),
                         only_qlib=int((~np.isfinite(a) & np.isfinite(b)).sum()),
                         max_abs_diff=float(d.max()) if len(d) else np.nan,
                         max_rel_diff=float(rel.max()) if len(d) else np.nan))
    t = pd.DataFrame(rows)
    pd.set_option("display.width", 200); pd.set_option("display.max_rows", 200)
    print(f"{len(m)} rows ({m.symbol.nunique()} symbols) compared after 60 bars; qlib {qlib.__version__}")
    print(t.sort_values("max_abs_diff", ascending=False).head(25).to_string(index=False))
    print(f"features with max_abs_diff > 1e-4: {(t.max_abs_diff > 1e-4).sum()} of {len(t)}")
    if out: t.to_csv(out, index=False, float_format="%.3g"); print(f"table written to {out}")


if __name__ == "__main__":
    mode, work = sys.argv[1], Path(sys.argv[2])
    if mode == "dump": dump(work)
    elif mode == "compare": compare(work, Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    else: raise SystemExit(f"unknown mode {mode!r}: dump or compare")
