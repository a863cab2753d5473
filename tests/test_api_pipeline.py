"""The pipeline endpoints start the real jobs through the one job runner (`aitrader.jobs.runner.run`).

Real app (TestClient on `create_app`), real daily and 15-minute NSE bars of RELIANCE, TCS and INFY in a fresh
AITRADER_HOME, a tiny champion trained and promoted once (`ensure_champion`, as `aitrader main` does), then:
POST /pipeline/run-daily (admin key) -> 202 with a run id; the run is in `runs` with its lock held while it runs,
and its signals are served by GET /signals/latest; the same for POST /pipeline/run-hourly (it refines the
daily signals of the session before its time).
"""
import json, os, time

import pytest
from fastapi.testclient import TestClient

from aitrader.api.app import create_app
from aitrader.api.keys import create_key
from aitrader.core.config import get_config
from aitrader.data.ingest import ingest
from aitrader.signals.store import SignalStore
from aitrader.testing import ingest_real

SYMBOLS = ["RELIANCE", "TCS", "INFY"]
DAY, AT = "2024-11-07", "2024-11-08 11:15"      # the 15-minute files end on 2024-11-08


def _follow(c, H, st, job, rid, timeout=900):
    "Poll GET /pipeline/runs/{rid} until it finishes; whether the job's lock named the run meanwhile."
    held, t_end = False, time.monotonic() + timeout
    while time.monotonic() < t_end:
        r = c.get(f"/pipeline/runs/{rid}", headers=H); run = r.json()
        if r.status_code == 503:        # the DuckDB file is held by the job's writer: the documented answer is 503 + Retry-After
            assert r.headers.get("Retry-After"), r.headers; time.sleep(0.5); continue
        assert r.status_code == 200, (r.status_code, run)
        if run["status"] != "running": return run, held
        try: held = held or json.loads(st.lock_path(job).read_text()).get("run_id") == rid
        except (FileNotFoundError, ValueError): pass
        time.sleep(0.2)
    raise AssertionError(f"{job} run {rid} still running after {timeout} s")


def test_pipeline_endpoints_run_the_real_jobs(home, data_dir, request, monkeypatch):
    "One tiny champion trained once; the daily + hourly flow then runs on DuckDB and on PostgreSQL (the signal and API stores switch, bars and models stay)."
    cfg = get_config({"AITRADER_HOME": str(home), "AITRADER_DATA_DIR": str(data_dir)})
    ingest_real(cfg, data_dir, SYMBOLS)
    for s in SYMBOLS: ingest(cfg, "csv", data_dir / "intraday_15m" / f"{s}_15min.csv", "15m", progress=False)
    from aitrader.jobs.bootstrap import ensure_champion
    ensure_champion(cfg, symbols=SYMBOLS, verbose=False)
    monkeypatch.delenv("AITRADER_DB_URL", raising=False)
    _flow(cfg)
    from aitrader.storage.pgserver import pg_bin
    if pg_bin() is None and not os.environ.get("CI"):
        print("PostgreSQL part skipped: PostgreSQL is not installed"); return
    pg = request.getfixturevalue("pg_server")
    url = pg.create_db(); monkeypatch.setenv("AITRADER_DB_URL", url)
    try: _flow(cfg)
    finally: monkeypatch.delenv("AITRADER_DB_URL"); pg.drop_db(url)


def _flow(cfg):
    c, st = TestClient(create_app(cfg)), SignalStore(cfg)
    A = {"X-API-Key": create_key("admin", "test", cfg)}

    r = c.post("/pipeline/run-daily", json={"run_date": DAY}, headers=A)
    assert r.status_code == 202, r.text
    rid = r.json()["run_id"]
    assert st.get_run(rid)["job"] == "daily"                                       # in `runs` at once
    assert c.post("/pipeline/run-daily", json={"run_date": DAY}, headers=A).status_code == 409
    run, held = _follow(c, A, st, "daily", rid)
    assert run["status"] == "success", run.get("errors")
    assert held and not st.lock_path("daily").exists()
    page = c.get("/signals/latest?limit=500", headers=A).json()
    assert page["as_of"] == DAY and page["run_ids"] == [rid] and page["count"] > 0, page

    r = c.post("/pipeline/run-hourly", json={"at": AT}, headers=A)
    assert r.status_code == 202, r.text
    hid = r.json()["run_id"]
    run, held = _follow(c, A, st, "hourly", hid)
    assert run["status"] == "success", run.get("errors")
    assert held and run["job"] == "hourly" and run["run_date"].startswith("2024-11-08")
    assert c.get("/signals/latest", headers=A).json()["run_ids"] == [rid]          # the hourly run refines, never re-publishes
