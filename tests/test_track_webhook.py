"""Issue 14: TradingView webhook, external signals, aggregation and /performance through the real app (TestClient).

Bars are the real NSE daily files of RELIANCE and TCS cut after 2024-11-22 (the app's clock stands on that evening);
model signals are SYNTHETIC test data (`aitrader.testing`) published through the real SignalStore.
"""
import json
import threading
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.core.config import get_config
from aitrader.core.calendar import IST
from aitrader.storage.db import is_pg
from aitrader.testing import ingest_real, publish_synthetic
from aitrader.track.external import read_external
from aitrader.track.outcomes import outcomes, save_outcomes, track_store

pytestmark = pytest.mark.usefixtures("backend")   # every test on DuckDB and on PostgreSQL
EVENING = pd.Timestamp("2024-11-22 18:00", tz=IST)
SECRET = "tv-secret-for-tests-123"


def alert(**kw):
    a = dict(secret=SECRET, source="momo", strategy="EMA 20/50", ticker="NSE:RELIANCE", action="buy", price=1290.0,
             time="2024-11-22T09:15:00+05:30", interval="1D")
    return {**a, **kw}


@pytest.fixture()
def env(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("AITRADER_TV_SECRETS", f"momo:{SECRET},other:another-secret-456")
    cfg = get_config({"AITRADER_HOME": str(tmp_path), "AITRADER_DATA_DIR": str(data_dir)})
    ingest_real(cfg, data_dir, ["RELIANCE", "TCS"], last="2024-11-22")
    publish_synthetic(cfg, "2024-11-22", n=4, seed=2, real=[("RELIANCE", "BUY", 1285.0), ("TCS", "SELL", 4300.0)])
    c = TestClient(create_app(cfg, clock=lambda: EVENING))
    H = {t: {"X-API-Key": K.create_key(t, f"test {t}", cfg)} for t in K.TIERS}
    return cfg, c, H


def test_alert_stored_enriched_idempotent_and_aggregated(env):
    cfg, c, H = env
    r = c.post("/webhooks/tradingview", json=alert())
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["symbol"] == "RELIANCE" and b["direction"] == "BUY" and b["as_of"] == "2024-11-22" and not b["duplicate"]
    assert b["last_close"] > 0 and b["atr14"] > 0 and b["stop_loss"] < b["entry"] < b["take_profit"]
    assert b["support"] is None or b["support"] < b["last_close"]
    assert b["resistance"] is None or b["resistance"] > b["last_close"]
    r2 = c.post("/webhooks/tradingview", json=alert())           # the same alert again: idempotent
    assert r2.status_code == 200 and r2.json()["duplicate"] and r2.json()["id"] == b["id"]
    x = read_external(cfg)
    assert len(x) == 1 and SECRET not in x.payload.iat[0]
    assert c.post("/webhooks/tradingview", json=alert(ticker="M_M", price=3000.0)).status_code == 422   # not in this store
    ag = c.get("/signals/aggregate/RELIANCE", headers=H["pro"]).json()
    src = {s["source"]: s for s in ag["sources"]}
    assert set(src) == {"model", "tv:momo"} and src["tv:momo"]["weight"] == 0.0   # a new source starts at zero weight
    assert c.get("/signals/aggregate/RELIANCE", headers=H["basic"]).status_code == 403
    assert c.get("/signals/aggregate/NOSUCH", headers=H["pro"]).status_code == 404


def test_external_sources_never_make_an_executable_signal(env):
    cfg, c, H = env
    # TCS: the model says SELL; a TradingView source with a strong tracked record says BUY
    assert c.post("/webhooks/tradingview", json=alert(ticker="NSE:TCS", price=4300.0, source="other", secret="another-secret-456")).status_code == 201
    st = track_store(cfg)
    fake = pd.DataFrame({"signal_id": [f"tv:hist{i}" for i in range(200)], "source": "tv:other", "model_version": "x", "role": "external",
                         "as_of": pd.Timestamp("2024-07-01").date(), "symbol": "TCS", "direction": "BUY", "confidence": None,
                         "entry": 100.0, "stop_loss": 95.0, "take_profit": 110.0, "atr14": 2.0})
    o = outcomes(fake.iloc[:0], pd.DataFrame(columns=["symbol", "ts", "open", "high", "low", "close"]), "2024-07-10")
    rows = fake.assign(status="CLOSED_TARGET", reason="target", fill_date=None, fill_price=100.0, exit_date=None, exit_price=110.0,
                       bars_held=3, holding_days=3, qty=10, gross_return=0.1, net_return=0.098, net_pnl=980.0, r_multiple=1.96,
                       mae=-0.01, mfe=0.1, through=pd.Timestamp("2024-07-10").date())[o.columns]
    save_outcomes(st, rows)
    ag = c.get("/signals/aggregate/TCS", headers=H["elite"]).json()
    assert ag["action"] == "BUY" and ag["executable"] is False and ag["signal_id"] is None


def test_webhook_refusals_store_nothing(env):
    cfg, c, H = env
    assert c.post("/webhooks/tradingview", json=alert(secret="wrong-secret-xyz")).status_code == 401
    assert c.post("/webhooks/tradingview", json=alert(source="nobody")).status_code == 401
    assert c.post("/webhooks/tradingview", json=alert(ticker="NSE:NOSUCH")).status_code == 422        # unknown symbol
    assert c.post("/webhooks/tradingview", json=alert(ticker="BSE:RELIANCE")).status_code == 422      # not NSE
    assert c.post("/webhooks/tradingview", json=alert(time="2024-11-15T09:15:00+05:30")).status_code == 422   # stale bar
    assert c.post("/webhooks/tradingview", json=alert(time="2024-11-25T09:15:00+05:30")).status_code == 422   # future
    assert c.post("/webhooks/tradingview", json=alert(stop=1300.0)).status_code == 422               # stop above a BUY's entry
    assert c.post("/webhooks/tradingview", json=alert(extra="x")).status_code == 422                 # unknown field
    assert c.post("/webhooks/tradingview", json=alert(price=-1)).status_code == 422
    raw = json.dumps(alert()).replace("1290.0", "NaN")
    assert c.post("/webhooks/tradingview", content=raw, headers={"content-type": "application/json"}).status_code == 422
    raw = json.dumps(alert()).replace("1290.0", "Infinity")
    assert c.post("/webhooks/tradingview", content=raw, headers={"content-type": "application/json"}).status_code == 422
    assert c.post("/webhooks/tradingview", content="{not json", headers={"content-type": "application/json"}).status_code == 422
    assert c.post("/webhooks/tradingview", json=alert(strategy="x" * 20000)).status_code == 413      # over the 8 KiB body limit
    assert c.post("/webhooks/tradingview", json=[alert()]).status_code == 422
    assert len(read_external(cfg)) == 0


def test_performance_tiers(env):
    cfg, c, H = env
    c.post("/webhooks/tradingview", json=alert())
    from aitrader.track.external import follow_external
    follow_external(cfg, "2024-11-22")
    assert c.get("/performance").status_code == 401
    b = c.get("/performance", headers=H["basic"]).json()
    assert b["tier"] == "basic" and "equity" not in b
    p = c.get("/performance?by=source,direction", headers=H["pro"]).json()
    assert p["tier"] == "pro" and p["rows"][0]["source"] == "tv:momo" and "hit_rate_lo" in p["rows"][0]
    e = c.get("/performance", headers=H["elite"]).json()
    assert "equity" in e and e["rows"][0]["regime"] == "n/a"
    assert c.get("/performance?by=password", headers=H["pro"]).status_code == 422
    assert c.get("/performance?start=2024-13-45", headers=H["pro"]).status_code == 422


def test_kill_switch_alert_once(env, monkeypatch):
    from aitrader.notify import Receiver
    cfg, c, H = env
    rx = Receiver()
    try:
        monkeypatch.setenv("AITRADER_ALERT_URLS", rx.url)
        assert c.post("/kill", json={"reason": "test"}, headers=H["admin"]).json()["engaged"]
        assert c.post("/kill", json={"engaged": False}, headers=H["admin"]).status_code == 200   # a release sends nothing
        for _ in range(100):                      # the alert goes out on its own thread: the switch never waits for it
            if rx.got: break
            time.sleep(0.05)
        time.sleep(0.2)
        assert [m["title"] for m in rx.got] == ["aitrader kill switch ENGAGED"]
    finally:
        rx.close()


def test_concurrent_duplicate_alerts_store_one_row(env):
    """Eight simultaneous posts of the same alert: exactly one is created (201), one row stored; the others are duplicates
    (200), never refused (#24: the reader and the writer of one DuckDB file no longer refuse each other)."""
    cfg, c, H = env
    codes, lock = [], threading.Lock()
    def go():
        r = c.post("/webhooks/tradingview", json=alert(strategy="concurrent"))
        with lock: codes.append(r.status_code)
    ts = [threading.Thread(target=go) for _ in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert codes.count(201) == 1 and set(codes) <= {200, 201}, codes
    assert len(read_external(cfg)) == 1


def test_concurrent_distinct_alerts_all_stored(env):
    "40 distinct alerts at concurrency 8: all 201, 40 rows (was 37 refused on DuckDB)."
    from concurrent.futures import ThreadPoolExecutor
    cfg, c, H = env
    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda i: c.post("/webhooks/tradingview", json=alert(strategy=f"s{i}")).status_code, range(40)))
    assert codes == [201] * 40, codes
    assert len(read_external(cfg)) == 40


def test_absurd_prices_refused_naming_the_rule(env):
    cfg, c, H = env
    r = c.post("/webhooks/tradingview", json=alert(price=1.0))            # RELIANCE closed near 1,290
    assert r.status_code == 422 and "price_band" in r.json()["detail"], r.text
    assert c.post("/webhooks/tradingview", json=alert(price=9e8 - 1)).status_code == 422
    assert c.post("/webhooks/tradingview", json=alert(price=1290.0 * 1.25)).status_code == 422
    r = c.post("/webhooks/tradingview", json=alert(action="sell", price=1100.0, stop=1200.0, target=None, strategy="t"))
    assert r.status_code == 201, r.text                                    # 15% below the close: inside the band
    assert len(read_external(cfg)) == 1


def test_webhook_reads_no_store_while_a_job_holds_the_job_file(env):
    """Another process holds `aitrader.duckdb` read-write (an ingest): the webhook neither waits nor fails (its bar
    context comes from the Parquet file, its row goes to the API's file)."""
    import subprocess, sys
    cfg, c, H = env
    if is_pg():
        pytest.skip("the job file matters on DuckDB only")
    hold = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                             "print('held', flush=True); time.sleep(6)", str(cfg.store_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert hold.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        r = c.post("/webhooks/tradingview", json=alert(strategy="while-held"))
        assert r.status_code == 201 and time.monotonic() - t0 < 1.5, (r.status_code, time.monotonic() - t0)
    finally:
        hold.kill()
        hold.wait()
