"""Regression tests of the API defects of issue 11: each one failed on the code before the fix.

Signals are SYNTHETIC test data (`aitrader.testing`), published through the real SignalStore; bars are the real
NSE daily files of RELIANCE, TCS and INFY, cut after 2024-11-21 so that the paper clock stands on that evening.
"""
import io, itertools, json, os, subprocess, sys, time, zipfile
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.broker.execution import positions
from aitrader.core.config import get_config
from aitrader.core.calendar import IST
from aitrader.testing import ingest_real, publish_synthetic

pytestmark = pytest.mark.usefixtures("backend")   # every test on DuckDB and on PostgreSQL
EVENING = pd.Timestamp("2024-11-21 18:00", tz=IST)
REAL = [("RELIANCE", "BUY", 1230.0), ("TCS", "BUY", 4100.0), ("INFY", "HOLD", float("nan"))]


@pytest.fixture()
def env(tmp_path, data_dir):
    "A home with real bars through 2024-11-21, synthetic signals for 2024-11-20 and 2024-11-21, a key per tier."
    cfg = get_config({"AITRADER_HOME": str(tmp_path), "AITRADER_DATA_DIR": str(data_dir)})
    ingest_real(cfg, data_dir, ["RELIANCE", "TCS", "INFY"], last="2024-11-21")
    for d, seed in [("2024-11-20", 1), ("2024-11-21", 2)]: publish_synthetic(cfg, d, n=8, seed=seed, real=REAL)
    app = create_app(cfg, clock=lambda: EVENING)
    H = {t: {"X-API-Key": K.create_key(t, f"test {t}", cfg)} for t in K.TIERS}
    return cfg, TestClient(app), H, data_dir


@pytest.fixture()
def plain(tmp_path):
    "A home with synthetic signals only (no bars)."
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    for d, seed in [("2024-11-20", 1), ("2024-11-21", 2)]: publish_synthetic(cfg, d, n=8, seed=seed)
    H = {t: {"X-API-Key": K.create_key(t, f"test {t}", cfg)} for t in K.TIERS}
    return cfg, TestClient(create_app(cfg)), H


def _order(c, H, sid="2024-11-21:RELIANCE", **body):
    return c.post("/elite/trade/execute", json={"signal_id": sid, **body}, headers=H["elite"])


def test_nothing_fills_while_kill_switch_engaged(env):
    cfg, c, H, data_dir = env
    c.post("/elite/auto/enable", json={"max_notional": 50000}, headers=H["elite"])
    o = _order(c, H, qty=2).json(); assert o["status"] == "PENDING"
    assert c.post("/kill", json={"reason": "test"}, headers=H["admin"]).json()["engaged"]
    ingest_real(cfg, data_dir, ["RELIANCE"])                       # the fill bar (2024-11-22) arrives
    assert _order(c, H, qty=1).status_code == 423                  # any elite request, even a refused one
    got = c.get(f"/elite/orders/{o['order_id']}", headers=H["elite"]).json()
    assert got["status"] != "FILLED" and positions(cfg, K.parse_key(H["elite"]["X-API-Key"])[0]).empty


def test_exposure_caps_per_symbol_and_total_at_fill_price(env):
    cfg, c, H, data_dir = env
    c.post("/elite/auto/enable", json={"max_notional": 100000, "max_total_notional": 150000}, headers=H["elite"])
    codes = [_order(c, H, notional=90000.0).status_code for _ in range(15)]
    assert codes[0] == 200 and set(codes[1:]) == {409}, codes      # per symbol, pending orders counted
    assert _order(c, H, "2024-11-21:TCS", notional=90000.0).json()["detail"]["code"] == "max_notional"   # in total
    ingest_real(cfg, data_dir, ["RELIANCE", "TCS"])
    c.get("/elite/orders/1", headers=H["elite"])                   # settles
    pos = positions(cfg, K.parse_key(H["elite"]["X-API-Key"])[0])
    assert pos.cost.sum() <= 100000, pos


def test_cap_checked_at_fill_price_not_entry(env):
    cfg, c, H, data_dir = env
    # the signal's entry says 1230; the last close is 1223.00 and the fill (2024-11-22 open) is 1229.40 INR
    c.post("/elite/auto/enable", json={"max_notional": 10 * 1223.0 + 1}, headers=H["elite"])
    a, b = _order(c, H, qty=5).json(), _order(c, H, qty=5).json()
    ingest_real(cfg, data_dir, ["RELIANCE"])
    st = [c.get(f"/elite/orders/{o['order_id']}", headers=H["elite"]).json()["status"] for o in (a, b)]
    assert st == ["FILLED", "CANCELLED"], st


def test_only_latest_unexpired_signals_execute(env):
    cfg, c, H, data_dir = env
    c.post("/elite/auto/enable", json={"max_notional": 50000}, headers=H["elite"])
    assert _order(c, H, "2024-11-20:RELIANCE", qty=1).json()["detail"]["code"] == "not_latest"
    late = TestClient(create_app(cfg, clock=lambda: pd.Timestamp("2024-11-22 10:00", tz=IST)))
    assert _order(late, H, qty=1).json()["detail"]["code"] == "signal_expired"
    ingest_real(cfg, data_dir, ["RELIANCE"])                       # the fill price is now known
    assert _order(c, H, qty=1).json()["detail"]["code"] == "signal_expired"


def _asgi(app, scope_headers, chunks):
    "Send one request straight to the ASGI app; (status, bytes the app pulled from the body)."
    import anyio
    pulled, out = [0], {}
    async def run():
        it = iter(chunks)
        async def receive():
            try: b = next(it)
            except StopIteration: return {"type": "http.request", "body": b"", "more_body": False}
            pulled[0] += len(b); return {"type": "http.request", "body": b, "more_body": True}
        async def send(m):
            if m["type"] == "http.response.start": out["status"] = m["status"]
        scope = {"type": "http", "method": "POST", "path": "/data/bhavcopy", "raw_path": b"/data/bhavcopy", "query_string": b"",
                 "headers": scope_headers, "http_version": "1.1", "scheme": "http", "server": ("t", 80), "client": ("t", 1), "root_path": ""}
        await app(scope, receive, send)
    anyio.run(run)
    return out["status"], pulled[0]


def test_body_limit_before_read_and_auth(plain):
    cfg, c, H = plain
    app = create_app(cfg, max_upload_bytes=1000)
    big = (b"x" * 65536 for _ in range(8000))                       # 500 MB, never materialized
    st, pulled = _asgi(app, [(b"content-length", str(500 * 2**20).encode()), (b"content-type", b"multipart/form-data; boundary=x")], big)
    assert (st, pulled) == (413, 0)                                 # not 401 after reading it
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
    chunks = lambda: itertools.chain([head], (b"x" * 600 for _ in range(10**6)))   # 600 MB without a length
    st, pulled = _asgi(app, [(b"content-type", b"multipart/form-data; boundary=x")], chunks())
    assert (st, pulled) == (401, 0)                                 # the key is checked before the body is read
    admin = (b"x-api-key", H["admin"]["X-API-Key"].encode())
    st, pulled = _asgi(app, [(b"content-type", b"multipart/form-data; boundary=x"), admin], chunks())
    assert st == 413 and pulled <= 1400                             # cut off while streaming
    r = c.post("/kill", content=b"{" + b" " * 100_000 + b"}", headers={**H["admin"], "content-type": "application/json"})
    assert r.status_code == 413


def test_zip_bomb_and_error_echo(env):
    cfg, c, H, data_dir = env
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z: z.writestr("cm27OCT2021bhav.csv", b"9" * (300 * 2**20))
    assert len(buf.getvalue()) < 400_000
    r = c.post("/data/bhavcopy", files={"file": ("bomb.zip", buf.getvalue(), "application/zip")}, headers=H["admin"])
    assert r.status_code == 422 and len(r.content) < 1000
    r = c.post("/data/bhavcopy", files={"file": ("x.csv", b"A," * 5_000_000, "text/csv")}, headers=H["admin"])
    assert r.status_code == 422 and len(r.content) < 1000


@pytest.mark.parametrize("body", [b'{"signal_id": "2024-11-21:TEST000", "qty": NaN}', b'{"signal_id": "2024-11-21:TEST000", "notional": Infinity}',
                                  b'{"max_notional": -Infinity}', b'{"reason": NaN}', b'{"run_date": NaN}'])
def test_nan_infinity_give_422(plain, body):
    cfg, c, H = plain
    for url in ["/elite/trade/execute", "/elite/auto/enable", "/kill", "/pipeline/run-daily"]:
        r = c.post(url, content=body, headers={**H["admin"], "content-type": "application/json"})
        assert r.status_code == 422, (url, r.status_code, r.text[:200])


def test_metric_labels_bounded(plain):
    cfg, c, H = plain
    for i in range(50): c.request(f"X{i}METHOD", f"/made/up/{i}")
    txt = c.get("/metrics").text
    assert "X1METHOD" not in txt and "/made/up" not in txt and 'method="OTHER",route="unmatched"' in txt


def test_unknown_key_without_database(plain, monkeypatch):
    cfg, c, H = plain
    c.get("/signals/latest", headers=H["pro"])                      # key table loaded once
    opens = []
    import aitrader.storage.apistore as S
    real = S.connect
    monkeypatch.setattr(S, "connect", lambda *a, **k: opens.append(a) or real(*a, **k))
    t0 = time.process_time()
    for i in range(200): assert c.get("/signals/latest", headers={"X-API-Key": f"ait_{i:08x}_" + "z" * 43}).status_code == 401
    assert opens == []                                              # no database round trip
    print(f"unknown key: {(time.process_time() - t0) / 200 * 1e3:.2f} ms CPU per request (client and server)")


def test_revoke_takes_effect_at_once(plain):
    cfg, c, H = plain
    assert c.get("/signals/latest", headers=H["pro"]).status_code == 200
    kid = K.parse_key(H["pro"]["X-API-Key"])[0]
    p = subprocess.run([sys.executable, "-c", "from aitrader.cli.main import app; app()", "keys", "revoke", kid],
                       env={**os.environ, "AITRADER_HOME": str(cfg.home)}, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert c.get("/signals/latest", headers=H["pro"]).status_code == 401       # another process revoked it: no cache window
    kid2 = K.parse_key(H["elite"]["X-API-Key"])[0]
    assert c.post(f"/admin/keys/{kid2}/revoke", headers=H["admin"]).status_code == 200
    assert c.get("/signals/latest", headers=H["elite"]).status_code == 401


def test_health_and_metrics_without_key_show_liveness_only(plain):
    cfg, c, H = plain
    h, m = c.get("/health"), c.get("/metrics")
    assert h.json() == {"status": "ok", "store_reachable": True}
    for secret in ["2024-11-2", "daily-", "BUY", "aitrader_signals", "last_success"]:
        assert secret not in h.text and secret not in m.text, secret
    assert c.get("/health", headers=H["admin"]).json()["latest_as_of"] == "2024-11-21"


def test_strict_request_types_and_empty_idempotency_key(plain):
    cfg, c, H = plain
    for body in [{"qty": True}, {"qty": "5"}, {"qty": 5, "extra": 1}, {"notional": "100"}]:
        assert _order(c, H, "2024-11-21:TEST000", **body).status_code == 422, body
    assert c.post("/elite/auto/enable", json={"enabled": 1}, headers=H["elite"]).status_code == 422
    assert c.post("/kill", json={"engaged": "false"}, headers=H["admin"]).status_code == 422
    r = c.post("/elite/trade/execute", json={"signal_id": "2024-11-21:TEST000", "qty": 1}, headers={**H["elite"], "Idempotency-Key": ""})
    assert r.status_code in (400, 422)


def test_run_date_checked_against_calendar_at_request(plain):
    cfg, c, H = plain
    for d in ["2024-02-30", "2024-11-20", "2024-11-23"]:             # no such day, election holiday, Saturday
        t0 = time.perf_counter()
        assert c.post("/pipeline/run-daily", json={"run_date": d}, headers=H["admin"]).status_code == 422, d
        assert time.perf_counter() - t0 < 2
    assert c.post("/pipeline/run-hourly", json={"at": "2024-11-20 10:15"}, headers=H["admin"]).status_code == 422


def test_bhavcopy_symbols_checked_and_reupload_changes_nothing(env):
    cfg, c, H, data_dir = env
    bc = data_dir / "bhavcopy" / "cm27OCT2021bhav.csv"
    up = lambda data, name: c.post("/data/bhavcopy", files={"file": (name, data, "text/csv")}, headers=H["admin"])
    assert up(bc.read_bytes(), bc.name).status_code == 200
    from aitrader.data.store import BarStore
    def state():
        with BarStore(cfg) as bs: n = bs.con.execute("SELECT count(*) FROM ingest_log").fetchone()[0]   # the bar catalog (DuckDB)
        files = sorted((p.name, p.stat().st_mtime_ns) for p in cfg.cache_dir.rglob("*.parquet"))
        return n, files
    before = state()
    r = up(bc.read_bytes(), bc.name)
    assert r.status_code == 200 and r.json()["unchanged"] is True and state() == before
    lines = bc.read_text().splitlines()
    lines[1] = "../../X" + lines[1][lines[1].index(","):]
    assert up("\n".join(lines).encode(), "cm28OCT2021bhav.csv").status_code == 422


def test_security_headers(plain):
    cfg, c, H = plain
    for r in [c.get("/signals/latest", headers=H["pro"]), c.get("/signals/latest"), c.get("/nope"), c.get("/health")]:
        assert r.headers["x-content-type-options"] == "nosniff"
    r = c.get("/signals/latest", headers=H["pro"])
    assert r.headers["cache-control"] == "no-store"
    assert c.get("/signals/2024-11-21:TEST000", headers=H["pro"]).headers["cache-control"] == "no-store"
