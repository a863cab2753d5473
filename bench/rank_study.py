"""Walk-forward rank study on the NIFTY 50 daily data (issue 13): prints the tables and writes them as CSV.

Usage: .venv/bin/python bench/rank_study.py [--years 2019,...,2024] [--n-trials 8] [--seeds 0,1,2] [--out DIR]
                                           [--no-checks] [--no-catboost] [--quick]
Reads the bar store of AITRADER_HOME (ingest the daily CSVs and the NIFTY 50 index first). Every number printed is
computed here: per test year and pooled over 2019-2024, IC / Rank IC / Rank ICIR / Newey-West t of the daily Rank IC
for the 1-, 5- and 10-day next-open labels; the per-fold trial counts, chosen parameters, trees and fit times; the
time to build features and score 500 symbols (50 real symbols resampled into 500 synthetic ones, the last 320 bars
each, which the 252-bar features need). The universe is today's NIFTY 50 carried back in time (survivorship bias).
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
from aitrader.features.alpha import ALL_FEATURES, build_features, cs_normalize, features_on
from aitrader.features.cross_section import industry_map
from aitrader.models.gbm import GBMRanker
from aitrader.train.rank_study import load_bars, study_data, study_folds, run_study, implausible_ic, _part

GOAL_RIC5, GOAL_T = 0.04, 3.0


def synth_500(bars, n=500, tail=320, seed=0):
    "500 synthetic symbols: each real symbol's last `tail` bars, copied with an independent multiplicative random walk."
    rng = np.random.default_rng(seed)
    b = bars.groupby("symbol").tail(tail)
    syms = b.symbol.unique()
    out = []
    for k in range(n):
        s = syms[k % len(syms)]
        g = b[b.symbol == s].copy()
        f = np.exp(np.cumsum(rng.normal(0, 0.005, len(g))))
        for c in ("open", "high", "low", "close"): g[c] = g[c] * f
        g["volume"] = g["volume"] * rng.uniform(0.5, 2.0)
        g["symbol"] = f"{s}_{k:03d}"
        out.append(g)
    return pd.concat(out, ignore_index=True).sort_values(["symbol", "ts"]).reset_index(drop=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", default="2019,2020,2021,2022,2023,2024")
    ap.add_argument("--n-trials", type=int, default=8)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default="bench/rank_study_result")
    ap.add_argument("--no-checks", action="store_true")
    ap.add_argument("--no-catboost", action="store_true")
    ap.add_argument("--with-ta", action="store_true", help="add the 12 TA features (ta_vector) to the lgb_all family")
    ap.add_argument("--labels", default="y_5", help="training labels the per-fold search may choose from (y_1,y_5,y_10,y_510)")
    ap.add_argument("--timing-only", action="store_true", help="skip the study; time the last fold with the params in OUT/folds.csv")
    a = ap.parse_args()
    years = tuple(int(y) for y in a.years.split(","))
    seeds = tuple(int(s) for s in a.seeds.split(","))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 250); pd.set_option("display.max_columns", 40); pd.set_option("display.max_rows", 200)

    t0 = time.perf_counter()
    bars, ix = load_bars(start="2011-01-01")
    ind = industry_map()
    t1 = time.perf_counter()
    D = study_data(bars, ix, ind, start="2012-01-01", with_ta=a.with_ta)
    feats = list(D.raw.columns)
    feat_s = time.perf_counter() - t1
    folds = study_folds(D.frame, years)
    print(f"data: {bars.symbol.nunique()} symbols, {len(bars)} bars {bars.ts.min():%Y-%m-%d}..{bars.ts.max():%Y-%m-%d}; "
          f"index bars {0 if ix is None else len(ix)}; {len(D.frame)} samples x {len(feats)} features; "
          f"features + labels {feat_s:.1f} s (load {t1 - t0:.1f} s)", flush=True)
    print("universe: today's NIFTY 50 list carried back in time (survivorship bias); labels close(t+h)/open(t+1)-1", flush=True)
    if a.timing_only:
        info = pd.read_csv(out / "folds.csv")
        info["params"] = info.params.map(lambda x: __import__("ast").literal_eval(x))
        return timing(D, folds, info, bars, ix, ind, seeds, feats)
    res = run_study(D, folds, n_trials=a.n_trials, seeds=seeds, checks=not a.no_checks, catboost=not a.no_catboost,
                    labels=tuple(a.labels.split(",")), features=feats,
                    log=lambda s: print(s, flush=True))
    py, sm, info = res["per_year"], res["summary"], res["info"]
    py.to_csv(out / "per_year.csv", index=False, float_format="%.5g")
    sm.to_csv(out / "summary.csv", index=False, float_format="%.5g")
    info.to_csv(out / "folds.csv", index=False, float_format="%.5g")

    cols = ["rank_ic_1", "rank_ic_5", "hac_t_5", "rank_ic_10", "hac_t_10", "ic_5", "rank_icir_5", "n_dates"]
    print("\n== pooled over the test years (daily Rank IC vs close(t+h)/open(t+1)-1; HAC = Newey-West t) ==")
    print(sm.set_index("model")[cols].round(4).to_string())
    print("\n== Rank IC 5d per test year ==")
    print(py.pivot(index="model", columns="year", values="rank_ic_5").round(4).to_string())
    print("\n== Rank IC 1d / 10d per test year (lgb_all, qlib_recipe) ==")
    for h in (1, 10):
        print(f"-- {h}d"); print(py[py.model.isin(["lgb_all", "qlib_recipe", "qlib_recipe_5d"])].pivot(index="model", columns="year", values=f"rank_ic_{h}").round(4).to_string())
    seed_rows = sm[sm.model.str.startswith("lgb_all_seed") & ~sm.model.str.endswith("_on_B")]
    print(f"\nseed spread of lgb_all (pooled Rank IC 5d over seeds {seeds}): min {seed_rows.rank_ic_5.min():.4f}, "
          f"max {seed_rows.rank_ic_5.max():.4f}, std {seed_rows.rank_ic_5.std(ddof=1):.4f}")
    print("\n== folds: Optuna trials (validation year only), chosen params, trees, fit times ==")
    print(info.drop(columns=["params"]).round(4).to_string(index=False))
    for _, r in info.iterrows(): print(f"  {r.year} params: " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.params.items()}))
    s = sm.set_index("model")
    if "leak_shifted" in s.index:
        print(f"\nleak test: leak_shifted Rank IC 5d {s.loc['leak_shifted', 'rank_ic_5']:.4f} -> detector fires: "
              f"{implausible_ic(s.loc['leak_shifted', 'rank_ic_5'])}; lgb_all fires: {implausible_ic(s.loc['lgb_all', 'rank_ic_5'])}")
        print(f"permutation test: permuted Rank IC 5d {s.loc['permuted', 'rank_ic_5']:.4f} (HAC t {s.loc['permuted', 'hac_t_5']:.2f})")
        print(f"held-out symbols: heldout_B {s.loc['heldout_B', 'rank_ic_5']:.4f} vs trained-on-all lgb_all_seed0 on B "
              f"{s.loc['lgb_all_seed0_on_B', 'rank_ic_5']:.4f}")
    r5, t5 = s.loc["lgb_all", "rank_ic_5"], s.loc["lgb_all", "hac_t_5"]
    print(f"\ngoal: Rank IC 5d >= {GOAL_RIC5} with HAC t >= {GOAL_T}: lgb_all {r5:.4f} (t {t5:.2f}) -> "
          f"{'met' if r5 >= GOAL_RIC5 and t5 >= GOAL_T else f'not met ({r5 / GOAL_RIC5:.0%} of the target Rank IC)'}; "
          f"qlib_recipe_5d {s.loc['qlib_recipe_5d', 'rank_ic_5']:.4f}, qlib_recipe {s.loc['qlib_recipe', 'rank_ic_5']:.4f}")

    timing(D, folds, info, bars, ix, ind, seeds, feats)
    print(f"tables written to {out}/ (per_year.csv, summary.csv, folds.csv)")


def timing(D, folds, info, bars, ix, ind, seeds, feats):
    "One fold's fit (last fold) with its chosen params; features + scoring of 500 symbols on one date."
    last = folds[-1]
    tr, va = _part(D, last.train_idx, feats), _part(D, last.valid_idx, feats)
    r_last = info.iloc[-1]
    m = GBMRanker(ALL_FEATURES, r_last.get("label", "y_5"), r_last.params, seed=seeds[0], eval_label="y_5").fit(tr, va)
    print(f"\ntiming: one fold ({last.year}, {len(tr)} fit rows, {len(va)} validation rows) fit with the chosen params: "
          f"{m.fit_seconds:.1f} s, {m.best_iteration} trees; the fold's Optuna search ({int(r_last.n_trials)} trials): "
          f"{r_last.tune_s:.0f} s; whole fold incl. baselines and checks {r_last.fold_s:.0f} s (during the study)")
    b500 = synth_500(bars)
    ix_tail = None if ix is None else ix[ix.ts >= b500.ts.min()]
    ind500 = {s: ind.get(s.rsplit("_", 1)[0], "?") for s in b500.symbol.unique()}
    times = []
    for _ in range(3):
        t = time.perf_counter()
        Z = features_on(b500, None, ix_tail, ind500)
        sc = m.predict(Z)
        top = m.top_features(Z)
        times.append(time.perf_counter() - t)
    print(f"timing: features_on ({len(b500)} bars) + normalise + score + top-3 attributions for {len(sc)} symbols on "
          f"one date: median {np.median(times):.2f} s of 3 (target < 10 s); e.g. {Z.symbol.iloc[0]}: {top[0]}")
    t = time.perf_counter(); build_features(b500, ix_tail, ind500)
    print(f"timing: full-history features of the same {len(b500)} bars (every row): {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
