"Incremental retraining on a tiny real-data case: the split, continued boosting and the child bundle's lineage."
import json, os
import numpy as np
import pandas as pd
import pytest
from aitrader.core.config import get_config
from aitrader.data.window import read_window
from aitrader.features.alpha import ALL_FEATURES, INDEX_SYMBOL, split_index
from aitrader.models.gbm import GBMRanker
from aitrader.train.dataset import BAR_COLS
from aitrader.train.incremental import continue_member, increment_split
from aitrader.train.rank_study import _part, study_data


def test_increment_on_real_data(tmp_path, monkeypatch):
    d = os.environ.get("AITRADER_DATA_DIR", "/work/shared/data/nse")
    if not os.path.isdir(d):
        pytest.skip(f"no NSE data at {d}")
    monkeypatch.setenv("AITRADER_DATA_DIR", d)
    monkeypatch.setenv("AITRADER_HOME", str(tmp_path))
    b = read_window(get_config(), ["RELIANCE", "TCS", "INFY", "ITC", INDEX_SYMBOL], "2017-01-01", source="auto")
    bars, ib = split_index(b[BAR_COLS], INDEX_SYMBOL)
    gd = study_data(bars, ib, start="2018-01-01")
    f = gd.frame
    sp = increment_split(f.ts, f.label_end, "2022-12-30", end="2023-06-30", replay=0.3)
    assert f.ts.iloc[sp["new"]].min() > pd.Timestamp("2022-12-30", tz=f.ts.dt.tz)
    assert f.label_end.iloc[sp["new"]].max() < f.ts.iloc[sp["holdout"]].min()
    assert f.label_end.iloc[sp["holdout"]].max() <= pd.Timestamp("2023-07-01", tz=f.ts.dt.tz)
    share = len(sp["replay"]) / (len(sp["replay"]) + len(sp["new"]))
    assert abs(share - 0.3) < 0.03
    feats = list(ALL_FEATURES)
    y = f.ts.dt.year.to_numpy()
    par = GBMRanker(feats, params=dict(min_data_in_leaf=50), num_boost_round=15).fit(_part(gd, np.flatnonzero(y <= 2022), feats))
    kid = continue_member([par], _part(gd, np.r_[sp["new"], sp["replay"]], feats), rounds=5)[0]
    assert kid.best_iteration == par.best_iteration + 5
    kid.save(tmp_path / "kid")
    assert GBMRanker.load(tmp_path / "kid").best_iteration == 20
