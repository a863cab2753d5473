"""Networks trained to rank vs their own losses, on the real data: per-network Rank IC 5d on the test year, seed spread,
epochs, wall time, and the fusion weights on the validation year (issue #13 item 4).

Usage: AITRADER_HOME=<home with the data> python bench/rank_loss.py --years 2024 2023 --config tiny --out /tmp/rank_loss
Recipes: `old` = train.fit (shuffled rows, Huber/BCE or pinball, early stopping on the validation loss);
`rank` = train.rank_loss (whole dates per batch, + per-date IC term, early stopping on the validation Rank IC 5d).
Writes one JSON line per fitted network to <out>/runs.jsonl, per-seed predictions to <out>/pred_*.parquet, and the
per-fold ensembles and fusion to <out>/folds.jsonl. 1 torch thread.
"""
import argparse, dataclasses, json, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from aitrader.core.config import get_config
from aitrader.data.window import read_window
from aitrader.features.alpha import INDEX_SYMBOL, split_index
from aitrader.train.dataset import dataset_folds, BAR_COLS
from aitrader.train.fold import CONFIGS, get_dataset
from aitrader.train.fit import fit_stockformer, fit_tft, Batches
from aitrader.train.baselines import score_predictions
from aitrader.train.rank_loss import fit_net, DateBatches, valid_rank_ic, sf_scores, tft_scores
from aitrader.models.stack import predict_arrays, SF_COLS, TFT_COLS
from aitrader.train.fit import kronos_array

ap = argparse.ArgumentParser()
ap.add_argument("--years", type=int, nargs="+", default=[2024, 2023])
ap.add_argument("--config", default="tiny"); ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
ap.add_argument("--recipes", nargs="+", default=["old", "rank"], help="old | rank | rank_none (whole dates + Rank-IC stopping, no ranking term)")
ap.add_argument("--nets", nargs="+", default=["stockformer", "tft"])
ap.add_argument("--w-rank", type=float, default=1.0); ap.add_argument("--kind", default="ic")
ap.add_argument("--dates-per-batch", type=int, default=8)
ap.add_argument("--patience", type=int, default=2)
ap.add_argument("--train-years", type=int, default=0, help="keep only the last N years of training rows (0: all)")
ap.add_argument("--out", default="/tmp/rank_loss"); ap.add_argument("--no-gbm", action="store_true")
a = ap.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)
cfg = get_config()
bars = read_window(cfg, None, "2012-01-01", source="auto")
bars, index_bars = split_index(bars[BAR_COLS], INDEX_SYMBOL)
ds, cached = get_dataset(bars, cfg, end="2024-12-31", cache=True)
print(f"dataset {len(ds)} rows, {ds.frame.symbol.nunique()} symbols, cached={cached}", flush=True)
sf_cfg, tft_cfg, _ = CONFIGS[a.config]
gd = gfolds = None
if not a.no_gbm:
    from aitrader.train.rank_study import study_data, study_folds
    gd = study_data(bars, index_bars, start="2013-01-01")
    gfolds = {g.year: g for g in study_folds(gd.frame, a.years)}
data_old, data_rank = Batches(ds), DateBatches(ds, a.dates_per_batch)

def preds(model, idx, cols):
    row = ds.frame["row"].to_numpy(np.int64)[idx]
    return pd.DataFrame(predict_arrays(model, np.ascontiguousarray(ds.windows[row]), ds.frame[__import__("aitrader.features.context", fromlist=["x"]).CONTEXT_FEATURES].to_numpy(np.float32)[idx]), columns=cols)

def ric(idx, score):
    p = pd.DataFrame({"row": idx, "ret_5d": score})
    return score_predictions(ds, p)["rank_ic_5d"]

done = set()
if (out / 'runs.jsonl').is_file():
    done = {(r['year'], r['recipe'], r['net'], r['seed']) for r in map(json.loads, (out / 'runs.jsonl').read_text().splitlines()) if r}
def run_fold(year, seed):
    f = dataset_folds(ds, [year])[0]
    if a.train_years:   # a shorter training window (CPU budget): the N years before the validation year
        keep = (ds.frame["ts"].iloc[f.train_idx] >= pd.Timestamp(f"{year - 1 - a.train_years}-01-01", tz="Asia/Kolkata")).to_numpy()
        f = dataclasses.replace(f, train_idx=f.train_idx[keep])
    print(f"fold {year}: {f.sizes()}", flush=True)
    key = ["symbol", "ts"]
    vf, tf = ds.frame.iloc[f.valid_idx][key].reset_index(drop=True), ds.frame.iloc[f.test_idx][key].reset_index(drop=True)
    if gd is not None and not (out / f"gbm_{year}.parquet").is_file():   # the gbm member of the fold, for the fusion
        from aitrader.train.gbm_member import fit_member, member_scores
        t0 = time.perf_counter()
        gm, ginfo = fit_member(gd, gfolds[year])
        g = pd.concat([member_scores(gm, gd, gfolds[year].valid_idx).assign(part="valid"),
                       member_scores(gm, gd, gfolds[year].test_idx).assign(part="test")], ignore_index=True)
        g.to_parquet(out / f"gbm_{year}.parquet")
        print(f"gbm member {year}: {time.perf_counter() - t0:.0f} s, {ginfo}", flush=True)
    if True:
        for recipe in a.recipes:
            for net in a.nets:
                if (year, recipe, net, seed) in done: continue
                t0, c0 = time.perf_counter(), time.process_time()
                c = sf_cfg if net == "stockformer" else tft_cfg
                if recipe == "old":
                    fn = fit_stockformer if net == "stockformer" else fit_tft
                    m, h = fn(ds, f.train_idx, f.valid_idx, c, epochs=a.epochs, seed=seed, patience=a.patience)
                else:
                    rk = None if recipe == "rank_none" else a.kind
                    m, h = fit_net(net, ds, f.train_idx, f.valid_idx, c, rank_loss=rk, w_rank=a.w_rank, seed=seed,
                                   data=data_rank, epochs=a.epochs, patience=a.patience)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                cols = SF_COLS if net == "stockformer" else TFT_COLS
                col = "sf_ret_5d" if net == "stockformer" else "tft_p50_5d"
                pv, pt = preds(m, f.valid_idx, cols), preds(m, f.test_idx, cols)
                pd.concat([vf.assign(part="valid"), tf.assign(part="test")], ignore_index=True).assign(
                    score=np.r_[pv[col].to_numpy(), pt[col].to_numpy()]).to_parquet(out / f"pred_{year}_{recipe}_{net}_{seed}.parquet")
                best = h[h.best].epoch.max() if "best" in h else None
                rec = dict(year=year, recipe=recipe, net=net, seed=seed, config=a.config, epochs_run=len(h), best_epoch=int(best),
                           valid_rank_ic_5d=ric(f.valid_idx, pv[col].to_numpy()), test_rank_ic_5d=ric(f.test_idx, pt[col].to_numpy()),
                           test_rank_ic_3d=ric(f.test_idx, pt[col.replace("5d", "3d")].to_numpy()),
                           test_rank_ic_10d=ric(f.test_idx, pt[col.replace("5d", "10d")].to_numpy()),
                           wall_s=round(wall, 1), cpu_s=round(cpu, 1), kind=a.kind if recipe == "rank" else None, w_rank=a.w_rank if recipe == "rank" else None)
                print(json.dumps(rec), flush=True)
                with open(out / "runs.jsonl", "a") as fh: fh.write(json.dumps(rec) + "\n")

for seed in a.seeds:
    for year in a.years:
        run_fold(year, seed)
