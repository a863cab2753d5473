"""Incremental retraining vs a full retrain of the gradient-boosting member, on the next period (issue #26).

Usage: .venv/bin/python bench/incremental_vs_full.py [--ends 2019,2020,2021,2022] [--replay 0.3] [--rounds 50]
(reads the daily bars of the store in AITRADER_HOME; `make run` fills it with the NIFTY 50 names.)

For each parent training end E (31 Dec of a year):
- parent: `GBMRanker` fitted on rows whose labels end before E - 1 year, early-stopped on the year before E (as a
  walk-forward fold).
- incremental: `train.incremental.continue_member` (the same call as `aitrader train --incremental`): `rounds` new
  trees on the sessions of the year after E (`increment_split`: their last 20% held out, 10-session embargo) plus a
  `replay` share of older rows drawn by whole dates.
- full: a fresh `GBMRanker` on every row with a label ending before that holdout, early-stopped on the same holdout.
- next period: the year after the new sessions (never seen by any of the three). Rank IC 5d (mean daily, and its
  Newey-West t) of each, and the seconds of each fit.
Prints one table row per (E, model) and the means; no number is typed in.
"""
import argparse, time
import numpy as np
import pandas as pd
from aitrader.features.alpha import ALL_FEATURES
from aitrader.models.gbm import GBMRanker
from aitrader.train.incremental import continue_member, ensemble_score, increment_split
from aitrader.train.rank_study import _part, load_bars, score, study_data


def window(D, end: int, replay: float, rounds: int) -> list[dict]:
    f, tz = D.frame, D.frame.ts.dt.tz
    T = lambda s: pd.Timestamp(s).tz_localize(tz) if tz is not None else pd.Timestamp(s)
    e, v0 = T(f"{end}-12-31 23:59"), T(f"{end - 1}-12-31 23:59")
    ptr = np.flatnonzero((f.label_end < v0).to_numpy())
    pva = np.flatnonzero(((f.ts > v0) & (f.label_end <= e)).to_numpy())
    feats = list(ALL_FEATURES)
    t = time.perf_counter()
    parent = GBMRanker(feats, "y_5").fit(_part(D, ptr, feats), _part(D, pva, feats))
    parent_s = time.perf_counter() - t
    sp = increment_split(f.ts, f.label_end, e, f"{end + 1}-12-31", replay=replay, seed=end)
    test = np.flatnonzero(((f.ts > T(f"{end + 1}-12-31 23:59")) & (f.ts <= T(f"{end + 2}-12-31 23:59"))).to_numpy())
    te, hold = _part(D, test, feats), _part(D, sp["holdout"], feats)
    t = time.perf_counter()
    kids = continue_member([parent], _part(D, np.r_[sp["new"], sp["replay"]], feats), rounds)
    inc_s = time.perf_counter() - t
    h0 = f.ts.iloc[sp["holdout"]].min()
    full_tr = np.flatnonzero((f.label_end < h0 - pd.Timedelta(days=14)).to_numpy())  # ~10 sessions of embargo
    t = time.perf_counter()
    full = GBMRanker(feats, "y_5").fit(_part(D, full_tr, feats), hold)
    full_s = time.perf_counter() - t
    rows = []
    for name, p, s, n in [("parent", parent.predict(te), parent_s, len(ptr)),
                          ("incremental", ensemble_score(kids, te), inc_s, len(sp["new"]) + len(sp["replay"])),
                          ("full", full.predict(te), full_s, len(full_tr))]:
        sc = score(p, te)
        rows.append(dict(parent_end=end, test_year=end + 2, model=name, fit_rows=n, fit_s=round(s, 1),
                         rank_ic_5=sc["rank_ic_5"], hac_t_5=sc["hac_t_5"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ends", default="2019,2020,2021,2022")
    ap.add_argument("--replay", type=float, default=0.3)
    ap.add_argument("--rounds", type=int, default=50)
    a = ap.parse_args()
    bars, ix = load_bars(start="2011-01-01")
    D = study_data(bars, ix, start="2012-01-01")
    rows = [r for e in (int(x) for x in a.ends.split(",")) for r in window(D, e, a.replay, a.rounds)]
    t = pd.DataFrame(rows)
    print(f"{D.frame.symbol.nunique()} symbols, replay {a.replay}, {a.rounds} new trees per increment")
    print(t.round(4).to_string(index=False))
    print(t.groupby("model")[["rank_ic_5", "fit_s"]].mean().round(4).to_string())


if __name__ == "__main__":
    main()
