"""Issue #26: GET /explain/{symbol} and GET /evaluate/{symbol} on a store built here from real NSE bars (TEST rows at
the real closes, followed by the tracker): tiers (401/403), unknown symbol (404), malformed symbol (422), paging, the
live pred_contrib path on a gradient-boosting member fitted here, and the OpenAPI response models."""
import numpy as np
import pandas as pd
import pytest
from aitrader.core.config import get_config
from aitrader.testing import ingest_real, publish_real_buys

SYMS = ["TCS", "COALINDIA", "POWERGRID", "INFY", "RELIANCE", "HINDUNILVR"]
DAYS = ("2024-09-02", "2024-09-16", "2024-10-01", "2024-10-14")
FEATS = ["KMID", "KLEN", "KUP", "KLOW", "ROC5", "ROC20", "STD20", "RSV10"]


@pytest.fixture()
def client(home, data_dir):
    from fastapi.testclient import TestClient
    from aitrader.api.app import create_app
    from aitrader.api.keys import create_key
    from aitrader.track.live import track_live
    cfg = get_config()
    ingest_real(cfg, data_dir, SYMS)
    for d in DAYS:
        publish_real_buys(cfg, d, SYMS, reasons=["BUY: TEST", "top attributions: KLEN +0.03, ROC5 -0.01, KUP +0.002"])
    track_live(cfg, through="2024-10-31")
    keys = {t: {"X-API-Key": create_key(t, t, cfg)} for t in ("basic", "pro", "elite", "admin")}
    return TestClient(create_app(cfg)), keys, cfg


@pytest.mark.parametrize("path", ["/explain/TCS", "/evaluate/TCS"])
def test_tiers(client, path):
    c, k, _ = client
    assert c.get(path).status_code == 401
    assert c.get(path, headers={"X-API-Key": "ait_nope_nope"}).status_code == 401
    assert c.get(path, headers=k["basic"]).status_code == 403
    assert all(c.get(path, headers=k[t]).status_code == 200 for t in ("pro", "elite", "admin"))


@pytest.mark.parametrize("route", ["explain", "evaluate"])
def test_unknown_and_malformed(client, route):
    c, k, _ = client
    r = c.get(f"/{route}/NOSUCH", headers=k["pro"])
    assert r.status_code == 404 and "NOSUCH" in r.json()["detail"]
    for bad in ("A" * 41, "TC$S", "TC%20S", "TCS;DROP", "%3Cscript%3E"):
        assert c.get(f"/{route}/{bad}", headers=k["pro"]).status_code == 422, bad
    assert c.get(f"/{route}/TCS", headers=k["pro"], params=dict(limit=1001)).status_code == 422
    assert c.get(f"/{route}/TCS", headers=k["pro"], params=dict(cursor="x")).status_code == 422


def test_explain_stored_and_paged(client):
    c, k, _ = client
    r = c.get("/explain/tcs", headers=k["pro"]).json()
    assert (r["symbol"], r["as_of"], r["method"], r["signal_id"]) == ("TCS", "2024-10-14", "stored", "2024-10-14:TCS")
    assert [(a["feature"], a["contribution"]) for a in r["attributions"]] == [("KLEN", 0.03), ("ROC5", -0.01),
                                                                               ("KUP", 0.002)]
    assert "stored" in r["member"] and r["total"] == 3 and r["next_cursor"] is None
    p1 = c.get("/explain/TCS", headers=k["pro"], params=dict(limit=2)).json()
    p2 = c.get("/explain/TCS", headers=k["pro"], params=dict(limit=2, cursor=p1["next_cursor"])).json()
    assert [a["feature"] for a in p1["attributions"] + p2["attributions"]] == ["KLEN", "ROC5", "KUP"]
    assert p2["next_cursor"] is None


def test_explain_pred_contrib(client, monkeypatch):
    import lightgbm as lgb
    import aitrader.api.explain as E
    from aitrader.features.alpha import INDEX_SYMBOL
    from aitrader.models.gbm import GBMRanker
    from aitrader.models.stack import GBMMember
    from aitrader.signals.daily import factor_inputs, read_bars
    c, k, cfg = client
    b, _ = read_bars(cfg, SYMS, "2024-10-14", intraday_days=0)
    X = pd.concat([factor_inputs(b[b.symbol != INDEX_SYMBOL], None, d, SYMS, FEATS)
                   for d in pd.bdate_range("2024-09-02", "2024-09-30")], ignore_index=True)
    rankers = []
    for seed in (0, 1):
        r = GBMRanker(FEATS, seed=seed)
        y = np.random.default_rng(seed).normal(size=len(X))
        r.booster = lgb.train(dict(objective="regression", num_leaves=4, min_data_in_leaf=5, verbose=-1, seed=seed),
                              lgb.Dataset(X.to_numpy(np.float32), y), num_boost_round=10)
        r.best_iteration = 10
        rankers.append(r)
    g = GBMMember(rankers)
    monkeypatch.setattr(E, "champion_gbm", lambda a: (g, "models:/aitrader/7"))
    r = c.get("/explain/TCS", headers=k["pro"], params=dict(limit=5)).json()
    assert r["method"] == "pred_contrib" and r["member_version"] == "models:/aitrader/7"
    assert "2 seeds" in r["member"] and r["total"] == len(FEATS) and len(r["attributions"]) == 5
    full = c.get("/explain/TCS", headers=k["pro"]).json()["attributions"]
    contrib = [a["contribution"] for a in full]
    assert contrib == sorted(contrib, key=abs, reverse=True)
    assert abs(sum(contrib) + r["bias"] - r["member_score"]) < 1e-6
    Xd = factor_inputs(b[b.symbol != INDEX_SYMBOL], None, pd.Timestamp("2024-10-14"), sorted(SYMS), FEATS)
    i = sorted(SYMS).index("TCS")
    want = np.mean([m.predict(Xd.iloc[[i]])[0] for m in rankers])
    assert abs(r["member_score"] - want) < 1e-6                   # the SHAP values add up to the member's score
    assert {a["feature"]: a["value"] for a in full} == pytest.approx({f: float(Xd.iloc[i][f]) for f in FEATS})


def test_evaluate_track_record(client):
    from aitrader.track.record import load_outcomes
    c, k, cfg = client
    o = load_outcomes(cfg)
    o = o[o.symbol == "COALINDIA"]
    r = c.get("/evaluate/COALINDIA", headers=k["pro"]).json()
    t = r["track"]
    assert r["total"] == t["n"] == len(o) == len(DAYS)
    closed = o[o.status.str.startswith("CLOSED")]
    assert t["closed"] == len(closed)
    if len(closed):
        assert t["avg_r"] == pytest.approx(closed.r_multiple.mean())
        assert t["hit_rate"] == pytest.approx((closed.net_pnl > 0).mean())
    if len(closed) > 1:
        assert t["avg_r_lo"] <= t["avg_r"] <= t["avg_r_hi"]
    assert [x["model_version"] for x in r["by_model"]] == ["TEST"]
    assert r["walk_forward"] is None                              # no champion in this home's registry
    p1 = c.get("/evaluate/COALINDIA", headers=k["pro"], params=dict(limit=3)).json()
    p2 = c.get("/evaluate/COALINDIA", headers=k["pro"], params=dict(limit=3, cursor=p1["next_cursor"])).json()
    days = [x["as_of"] for x in p1["outcomes"] + p2["outcomes"]]
    assert days == sorted(DAYS, reverse=True) and p2["next_cursor"] is None


def test_openapi(client):
    c, _, _ = client
    s = c.get("/openapi.json").json()
    for p, model in (("/explain/{symbol}", "ExplainOut"), ("/evaluate/{symbol}", "EvaluateOut")):
        g = s["paths"][p]["get"]
        assert g["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(model)
        assert {"401", "403", "404", "422"} <= set(g["responses"])
        assert {x["name"] for x in g["parameters"]} >= {"symbol", "limit", "cursor"}
    assert "AttributionOut" in s["components"]["schemas"] and "TrackStats" in s["components"]["schemas"]
