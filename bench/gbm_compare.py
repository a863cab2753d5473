"""LightGBM vs CatBoost (and XGBoost when installed) on the same inputs: all normalised alpha features, label y_5.

Usage: .venv/bin/python bench/gbm_compare.py [--years 2023,2024]
Each model is fitted on a fold's fit part with early stopping on its validation year (LightGBM: validation mean daily
Rank IC; CatBoost/XGBoost: validation RMSE of the label, their built-in stopping) and scored on the test year:
Rank IC 5d with its Newey-West t, trees and fit seconds. Prints a table.
"""
import argparse, time
import numpy as np
import pandas as pd
from aitrader.features.alpha import ALL_FEATURES
from aitrader.models.gbm import GBMRanker
from aitrader.train.rank_study import load_bars, study_data, study_folds, score, _part


def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--years", default="2023,2024")
    a = ap.parse_args()
    years = tuple(int(y) for y in a.years.split(","))
    bars, ix = load_bars(start="2011-01-01")
    D = study_data(bars, ix, start="2012-01-01")
    rows = []
    for fo in study_folds(D.frame, years):
        tr, va, te = (_part(D, i, ALL_FEATURES) for i in (fo.train_idx, fo.valid_idx, fo.test_idx))
        ok = lambda p: np.isfinite(p.y_5.to_numpy())
        X = lambda p: p[ALL_FEATURES].to_numpy(np.float32)
        m = GBMRanker(ALL_FEATURES, "y_5").fit(tr, va)
        rows.append(dict(model="lightgbm", year=fo.year, trees=m.best_iteration, fit_s=m.fit_seconds, **score(m.predict(te), te)))
        from catboost import CatBoostRegressor
        t = time.perf_counter()
        cb = CatBoostRegressor(iterations=1000, depth=4, learning_rate=0.05, l2_leaf_reg=10, rsm=0.5, thread_count=1,
                               random_seed=0, od_type="Iter", od_wait=50, use_best_model=True, verbose=False,
                               allow_writing_files=False)
        cb.fit(X(tr)[ok(tr)], tr.y_5[ok(tr)], eval_set=(X(va)[ok(va)], va.y_5[ok(va)]))
        rows.append(dict(model="catboost", year=fo.year, trees=cb.get_best_iteration() + 1, fit_s=time.perf_counter() - t,
                         **score(cb.predict(X(te)), te)))
        try:
            import xgboost as xgb
            t = time.perf_counter()
            xm = xgb.XGBRegressor(n_estimators=1000, max_depth=4, learning_rate=0.03, subsample=0.7, colsample_bytree=0.5,
                                  min_child_weight=50, reg_lambda=10, n_jobs=1, early_stopping_rounds=50, random_state=0)
            xm.fit(X(tr)[ok(tr)], tr.y_5[ok(tr)], eval_set=[(X(va)[ok(va)], va.y_5[ok(va)])], verbose=False)
            rows.append(dict(model="xgboost", year=fo.year, trees=xm.best_iteration + 1, fit_s=time.perf_counter() - t,
                             **score(xm.predict(X(te)), te)))
        except ImportError: print("xgboost is not installed: skipped")
        print(pd.DataFrame(rows).tail(3)[["model", "year", "trees", "fit_s", "rank_ic_5", "hac_t_5"]].round(4).to_string(index=False), flush=True)
    df = pd.DataFrame(rows)
    print("\n== Rank IC 5d per year ==")
    print(df.pivot(index="model", columns="year", values="rank_ic_5").round(4).to_string())
    print(df.groupby("model")[["rank_ic_1", "rank_ic_5", "rank_ic_10", "trees", "fit_s"]].mean().round(4).to_string())


if __name__ == "__main__":
    main()
