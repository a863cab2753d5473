"""Speed of training and inference of the model stack on the real NIFTY 50 data; prints a table.

Usage: .venv/bin/python bench/train.py [--year 2024] [--epochs 2] [--threads 2] [--config default]
Targets (2-core machine): one walk-forward fold of the full stack (StockFormer + TFT fitted with early stopping on the
validation year, predictions, CatBoost veto fitted and calibrated on the validation-year predictions, the baselines)
on NIFTY 50 in < 10 minutes at the stated epochs; batched inference (StockFormer + TFT + veto) for 500 symbols < 2 s.
The fold is the latest test year by default (the largest training set). Bars 2012-2024 come from the CSV folder (or
the store) and the dataset is built before the clock starts (its build time is shown). Inference: 500 test rows
(symbols x days of the test year), median of 5 calls after one warm-up; inputs already built (features are timed in
bench/features.py). "cpu s" is the CPU time of all threads: wall above cpu means waiting for a core on a shared machine.
"""
import argparse, statistics, sys, time, warnings
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from aitrader.core.config import get_config
from aitrader.features.context import CONTEXT_FEATURES
from aitrader.models.stockformer import n_params
from aitrader.train.dataset import dataset_folds
from aitrader.train.fit import fit_stockformer, fit_tft, predict_arrays, SF_COLS, TFT_COLS
from aitrader.train.veto import fit_veto
from aitrader.train.baselines import run_baselines
from aitrader.data.window import read_window
from aitrader.train.fold import CONFIGS, get_dataset, stack_predictions, veto_split, veto_inputs


def clock(fn, label=None):
    t, c = time.perf_counter(), time.process_time(); r = fn()
    w, cpu = time.perf_counter() - t, time.process_time() - c
    if label: print(f"  {label}: {w:.1f} s wall, {cpu:.1f} s cpu", flush=True)
    return r, w, cpu


def fit_fold(ds, fold, sf_cfg, tft_cfg, trees, kw, seed, rows):
    "Fit the stack and the baselines on one fold, appending (step, wall, cpu, detail) to rows; returns (sf, tft, veto)."
    (sf, hs), w, c = clock(lambda: fit_stockformer(ds, fold.train_idx, fold.valid_idx, sf_cfg, **kw), "fit StockFormer")
    rows.append(("fit StockFormer", w, c, f"{len(hs)} epochs, {n_params(sf):,} params, valid loss {hs.valid_loss.min():.4f}"))
    (tft, ht), w, c = clock(lambda: fit_tft(ds, fold.train_idx, fold.valid_idx, tft_cfg, **kw), "fit TFT")
    rows.append(("fit TFT", w, c, f"{len(ht)} epochs, {n_params(tft):,} params, valid loss {ht.valid_loss.min():.4f}"))
    vfit, vcal = veto_split(ds, fold.valid_idx)
    (pv, pt), w, c = clock(lambda: (stack_predictions(sf, tft, ds, np.r_[vfit, vcal]), stack_predictions(sf, tft, ds, fold.test_idx)), "predict")
    rows.append(("predict valid + test", w, c, f"{len(pv) + len(pt):,} rows"))
    y = ds.frame["veto_fail"].to_numpy(float)
    def veto():
        X = veto_inputs(pv, ds)
        return fit_veto(X.iloc[:len(vfit)], y[vfit], X.iloc[len(vfit):], y[vcal], seed=seed, iterations=trees)
    vm, w, c = clock(veto, "veto")
    rows.append(("fit + calibrate veto", w, c, f"{len(vfit):,} fit / {len(vcal):,} calibration rows"))
    bl, w, c = clock(lambda: run_baselines(ds, fold, seed=seed, iterations=trees), "baselines")
    rows.append(("baselines", w, c, ", ".join(bl)))
    return sf, tft, vm


def fit_gbm(cfg, bars, year, rows):
    "The factor members of the new recipe on one fold: factor library + labels, the 3-seed LightGBM ensemble, the CatBoost-TA member, the qlib recipe beside them."
    from aitrader.features.alpha import split_index
    from aitrader.train.rank_study import study_data, study_folds
    from aitrader.train.gbm_member import fit_member, qlib_recipe_scores
    from aitrader.features.alpha import INDEX_SYMBOL
    b, ix = split_index(bars[["symbol", "ts", "open", "high", "low", "close", "volume"]], INDEX_SYMBOL)
    if ix is None:
        ib = read_window(cfg, [INDEX_SYMBOL], "2012-01-01", source="auto"); ix = ib[b.columns] if len(ib) else None
    gd, w, c = clock(lambda: study_data(b, ix, start="2013-01-01"))
    rows.append(("factor library + rank labels", w, c, f"{len(gd.frame):,} samples x {len(gd.frame.columns)} columns, {b.symbol.nunique()} symbols"))
    gf = study_folds(gd.frame, (year,))[0]
    (m, info), w, c = clock(lambda: fit_member(gd, gf))
    rows.append(("fit gbm member (3 seeds, early stop on valid Rank IC)", w, c, f"trees {info['trees']}, fit rows {len(gf.train_idx):,}"))
    from aitrader.features.ta import ta_vector, TA_FEATURES
    from aitrader.models.stack import TAMember
    tr = gd.frame.iloc[gf.train_idx][["symbol", "ts", "ret_5"]]
    X = tr.merge(ta_vector(b), on=["symbol", "ts"], how="left")[TA_FEATURES].to_numpy("float32")
    _, w, c = clock(lambda: TAMember().fit(X, tr.ret_5.to_numpy(), iterations=400))
    rows.append(("fit cbta member (CatBoost on the 12 TA features, 400 trees)", w, c, f"fit rows {len(tr):,}"))
    _, w, c = clock(lambda: qlib_recipe_scores(gd, gf))
    rows.append(("fit qlib recipe (baseline)", w, c, "Alpha158 raw, qlib's LightGBM parameters"))


def untrained(ds, fold, sf_cfg, tft_cfg, trees, seed):
    "Default-size models with initial weights and a veto fitted on their outputs for 2,000 validation rows: for timing only."
    import torch
    from dataclasses import replace
    from aitrader.models.stockformer import StockFormer
    from aitrader.models.tft import TFT
    torch.manual_seed(seed)
    sf, tft = StockFormer(replace(sf_cfg, kronos_dim=0)).eval(), TFT(replace(tft_cfg, kronos_dim=0)).eval()
    vfit, vcal = veto_split(ds, fold.valid_idx[-2000:])
    pv = stack_predictions(sf, tft, ds, np.r_[vfit, vcal]); X = veto_inputs(pv, ds); y = ds.frame["veto_fail"].to_numpy(float)
    return sf, tft, fit_veto(X.iloc[:len(vfit)], y[vfit], X.iloc[len(vfit):], y[vcal], seed=seed, iterations=trees)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2024); ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--config", default="default")
    ap.add_argument("--batch-size", type=int, default=256); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--infer-only", action="store_true", help="skip the fold; time inference with untrained weights (speed only)")
    ap.add_argument("--gbm-only", action="store_true", help="time only the gradient-boosting member of the new recipe on the fold")
    a = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    cfg = get_config()
    bars, t_load, _ = clock(lambda: read_window(cfg, None, "2012-01-01", source="auto"), "load bars")
    if a.gbm_only:
        rows = []; fit_gbm(cfg, bars, a.year, rows)
        tab = Table(title=f"bench/train.py --gbm-only: NIFTY 50, fold {a.year}")
        for h in ("step", "wall s", "cpu s", "detail"): tab.add_column(h)
        for r in rows: tab.add_row(r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", r[3])
        tab.add_row("ONE FOLD, gbm member + qlib recipe", f"{sum(r[1] for r in rows[1:]):.1f}", f"{sum(r[2] for r in rows[1:]):.1f}", "(scoring 500 symbols: bench/rank_study.py --timing-only)")
        Console().print(tab); return
    src = bars.attrs["source"]
    ds, t_ds, _ = clock(lambda: get_dataset(bars, cfg, end=f"{a.year}-12-31")[0], "build (or load) dataset")
    fold = dataset_folds(ds, [a.year])[0]
    sf_cfg, tft_cfg, trees = CONFIGS[a.config]
    kw = dict(epochs=a.epochs, batch_size=a.batch_size, seed=a.seed, num_threads=a.threads, patience=2)
    rows = []
    if a.infer_only: sf, tft, vm = untrained(ds, fold, sf_cfg, tft_cfg, trees, a.seed)
    else: sf, tft, vm = fit_fold(ds, fold, sf_cfg, tft_cfg, trees, kw, a.seed, rows)
    total_w, total_c = sum(r[1] for r in rows), sum(r[2] for r in rows)
    # inference for 500 symbols: 500 test rows, end to end from prepared arrays
    rng = np.random.default_rng(0); idx = np.sort(rng.choice(fold.test_idx, 500, replace=False))
    X = np.ascontiguousarray(ds.windows[ds.frame["row"].to_numpy()[idx]]); C = ds.frame[CONTEXT_FEATURES].to_numpy(np.float32)[idx]
    def infer():
        s, t = predict_arrays(sf, X, C), predict_arrays(tft, X, C)
        pred = pd.concat([ds.frame.iloc[idx][["symbol", "ts"]].reset_index(drop=True).assign(row=idx),
                          pd.DataFrame(s, columns=SF_COLS), pd.DataFrame(t, columns=TFT_COLS)], axis=1)
        return vm.predict_p_fail(veto_inputs(pred, ds))
    infer(); ts, cs = [], []
    for _ in range(5):
        _, w, c = clock(infer); ts.append(w); cs.append(c)
    con = Console(); tab = Table(title=f"bench/train.py: NIFTY 50, fold {a.year}, config {a.config}, max {a.epochs} epochs, {a.threads} threads")
    for h in ("step", "wall s", "cpu s", "detail"): tab.add_column(h, justify="right" if h != "detail" and h != "step" else "left")
    tab.add_row("load bars (not timed in the fold)", f"{t_load:.1f}", "", f"{len(bars):,} bars from {src}")
    tab.add_row("build or load dataset (not timed in the fold)", f"{t_ds:.1f}", "", f"{len(ds):,} samples; fold train {len(fold.train_idx):,} valid {len(fold.valid_idx):,} test {len(fold.test_idx):,}")
    for r in rows: tab.add_row(r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", r[3])
    if rows: fit_gbm(cfg, bars, a.year, rows)
    if rows: tab.add_row("ONE FOLD, full stack (target < 600 s)", f"{total_w:.1f}", f"{total_c:.1f}", "PASS" if total_w < 600 else "FAIL")
    tab.add_row("inference, 500 symbols (target < 2 s)", f"{statistics.median(ts):.3f}", f"{statistics.median(cs):.3f}",
                ("PASS" if statistics.median(ts) < 2 else "FAIL") + ": StockFormer + TFT + veto vector + p_fail, median of 5" + (" (untrained weights)" if a.infer_only else ""))
    con.print(tab)


if __name__ == "__main__":
    main()
