"""Tables of bench/rank_loss.py's output: per-network Rank IC 5d per recipe (seed mean, spread, 3-seed ensemble),
epochs and wall time, and the fusion weights fitted on the validation year with the gbm member.

Usage: AITRADER_HOME=<home> python bench/rank_loss_report.py /tmp/rank_loss [--no-fusion]
"""
import json, sys
from pathlib import Path
import numpy as np, pandas as pd
from aitrader.train.metrics import rank_ic_by_date

out = Path(sys.argv[1]); fusion = "--no-fusion" not in sys.argv
runs = pd.DataFrame([json.loads(l) for l in (out / "runs.jsonl").read_text().splitlines() if l.strip()])
pd.set_option("display.width", 200)
print("## every fitted network\n", runs.drop(columns=["config"]).round(4).to_string(index=False))
agg = runs.groupby(["year", "net", "recipe"]).agg(
    seeds=("seed", "count"), valid_ric_mean=("valid_rank_ic_5d", "mean"), test_ric_mean=("test_rank_ic_5d", "mean"),
    test_ric_std=("test_rank_ic_5d", "std"), test_ric_min=("test_rank_ic_5d", "min"), test_ric_max=("test_rank_ic_5d", "max"),
    epochs_mean=("epochs_run", "mean"), best_epoch_mean=("best_epoch", "mean"), wall_s_mean=("wall_s", "mean"))

def label_frame():
    "symbol, ts, ret_5 of the gbm study (the fusion's label), and of the network dataset"
    from aitrader.core.config import get_config
    from aitrader.data.window import read_window
    from aitrader.features.alpha import INDEX_SYMBOL, split_index
    from aitrader.train.dataset import BAR_COLS
    from aitrader.train.rank_study import study_data
    bars, ib = split_index(read_window(get_config(), None, "2012-01-01", source="auto")[BAR_COLS], INDEX_SYMBOL)
    return study_data(bars, ib, start="2013-01-01")

def ric(df, col, lab):
    return float(rank_ic_by_date(df[col].to_numpy(float), df[lab].to_numpy(float), df["ts"].to_numpy(), min_n=5).mean())

ens, fus = [], []
gd = label_frame() if fusion else None
from aitrader.train.dataset import load_dataset
import os
ds = load_dataset(Path(os.environ["AITRADER_HOME"]) / "training_data" / "v1")
lab = ds.frame[["symbol", "ts", "ret_5"]]
for (year, recipe), g in runs.groupby(["year", "recipe"]):
    cols = {}
    for net in ("stockformer", "tft"):
        seeds = sorted(g[g.net == net].seed)
        if not seeds: continue
        ps = [pd.read_parquet(out / f"pred_{year}_{recipe}_{net}_{s}.parquet") for s in seeds]
        p = ps[0].drop(columns="score").assign(score=np.mean([x.score.to_numpy() for x in ps], axis=0),
                                               seed0=ps[0].score.to_numpy())
        p = p.merge(lab, on=["symbol", "ts"], how="left")
        c = "sf_ret_5d" if net == "stockformer" else "tft_p50_5d"; cols[c] = p
        ens.append(dict(year=year, recipe=recipe, net=net, n_seeds=len(seeds),
                        valid_ric_ensemble=ric(p[p.part == "valid"], "score", "ret_5"), test_ric_ensemble=ric(p[p.part == "test"], "score", "ret_5")))
    if fusion and (out / f"gbm_{year}.parquet").is_file() and len(cols) == 2:
        from aitrader.train.gbm_member import fuse_members, fused_score
        gb = pd.read_parquet(out / f"gbm_{year}.parquet")
        for which in ("score", "seed0"):
            m = gb.copy()
            for c, p in cols.items(): m = m.merge(p[["symbol", "ts", "part", which]].rename(columns={which: c}), on=["symbol", "ts", "part"], how="inner")
            v, t = m[m.part == "valid"].reset_index(drop=True), m[m.part == "test"].reset_index(drop=True)
            fz = fuse_members(v, gd)
            tl = t.merge(gd.frame[["symbol", "ts", "ret_5"]], on=["symbol", "ts"], how="inner")
            tl["fused"] = fused_score(tl, fz)
            fus.append(dict(year=year, recipe=recipe, networks="3-seed ensemble" if which == "score" else "seed 0",
                            **{f"w_{k}": v for k, v in fz["weights"].items()}, **{f"valid_ric_{k}": v for k, v in fz["valid_rank_ic"].items()},
                            test_ric_fused=ric(tl, "fused", "ret_5"), test_ric_gbm=ric(tl, "gbm_score", "ret_5")))
e = pd.DataFrame(ens).set_index(["year", "net", "recipe"])
print("\n## per network and recipe (Rank IC 5d, dataset label ret_5)\n", agg.join(e).round(4).to_string())
if fus: print("\n## fusion on the validation year (gbm member + networks), scored on the test year (study label ret_5)\n", pd.DataFrame(fus).round(4).to_string(index=False))
