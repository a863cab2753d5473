"""CI-sized training job through papermill: 2 symbols, the 2019 fold, 1 epoch, tiny models, registered in a temporary MLflow store."""
import math, time
from aitrader.core.config import get_config
from aitrader.jobs.catalog import run
from aitrader.signals.store import SignalStore
from aitrader.train.registry import mlflow_client, MODEL_NAME, CHALLENGER, PRIMARY, BRIER


def test_train_job_ci(home, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)   # the store of this temporary home, never the project's
    cfg = get_config()
    assert cfg.home == home
    t0 = time.perf_counter()
    r = run("train", dict(symbols="RELIANCE,TCS", folds="2019", epochs=1, config="tiny", seed=0), cfg)
    secs = time.perf_counter() - t0
    assert r.ok, r.error
    g = r.glued
    assert g["model_version"] == 1 and g["n_folds"] == 1
    assert {r["year"] for r in g["fold_table"]} == {"2019", "mean"} and "rank_ic_5d" in g["fold_table"][0]   # aitrader train prints it
    assert math.isfinite(g["rank_ic_5d_mean"]) and 0 < g["veto_brier_mean"] < 1
    assert "baseline_momentum_20_rank_ic_5d_mean" in g["baselines"]
    assert r.notebook.parent == home / "runs" / "out" / "train" and r.notebook.is_file()
    row = SignalStore(cfg).get_run(r.run_id)           # the one job runner recorded it
    assert row["job"] == "train" and row["status"] == "success" and row["model_version"] == "1"
    c = mlflow_client(cfg)
    mv = c.get_model_version_by_alias(MODEL_NAME, CHALLENGER)
    assert str(mv.version) == "1" and mv.run_id == g["mlflow_run_id"]
    m = c.get_run(g["mlflow_run_id"]).data.metrics
    assert m[PRIMARY] == g["rank_ic_5d_mean"] and m[BRIER] == g["veto_brier_mean"]
    print(f"CI training job: {secs:.0f} s (target < 90 s on an idle 2-core machine; timed in CI, not asserted)")
